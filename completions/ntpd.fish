complete -c ntpd -s c -d 'Configuration file (default /etc/ntp.conf)' -r
complete -c ntpd -s D -d 'Set the debugging level' -r
complete -c ntpd -s f -d 'Frequency (drift) file' -r
complete -c ntpd -s k -d 'Symmetric keys file' -r
complete -c ntpd -s l -d 'Log to FILE instead of syslog' -r
complete -c ntpd -s p -d 'Write the process ID to FILE' -r
complete -c ntpd -s s -d 'Directory for statistics files' -r
complete -c ntpd -s t -d 'Add a key number to the trusted keys (repeatable)' -r
complete -c ntpd -s u -d 'Drop root privileges, keeping only the clock capability' -r
complete -c ntpd -s i -d 'Chroot to DIR after startup' -r
complete -c ntpd -s F -d 'System call filter (seccomp), as chronyd\'s -F: 0 none (the default); 1 once started, allow only the system calls ntpd needs: any other kills it with SIGSYS, and the kernel log (journalctl -k) names the call' -r
complete -c ntpd -l port -d 'UDP port to serve (default 123, or ntp.conf\'s \'port\')' -r
complete -c ntpd -l version -d 'Print the version and exit'
complete -c ntpd -s n -d 'Stay in the foreground and log to stderr'
complete -c ntpd -s d -d 'More debugging output (repeatable); implies -n'
complete -c ntpd -s g -d 'Allow the first clock adjustment to be beyond the panic threshold (1000 s)'
complete -c ntpd -s x -d 'Slew, never step, offsets up to 600 s (at most 500 ppm)'
complete -c ntpd -s q -d 'Set the clock once and exit (stays in the foreground)'
complete -c ntpd -s L -d 'Do not listen on virtual interfaces (eth0:1 aliases)'
complete -c ntpd -s N -d 'Run at high priority'
complete -c ntpd -s 4 -d 'Use IPv4 only'
complete -c ntpd -s 6 -d 'Use IPv6 only'
complete -c ntpd -s a -d 'Require authentication (the default)'
complete -c ntpd -s A -d 'Do not require authentication'
complete -c ntpd -l check -d 'Check the configuration: print each problem as FILE:LINE: message, exit 0 if ntpd could run with it, else 1'
complete -c ntpd -l seccomp -d 'The same as -F 1'
complete -c ntpd -s h -l help -d 'Print help (see more with \'--help\')'
