complete -c ntpdate -s a -d 'Sign requests with this key of the keys file; accept only replies signed with it' -r
complete -c ntpdate -s e -d 'Authentication delay, below 1 s (accepted for compatibility, not needed)' -r
complete -c ntpdate -s k -d 'Keys file for -a, in ntp.keys format (default /etc/ntp.keys)' -r -F
complete -c ntpdate -s o -d 'NTP version of the requests, 1 to 4 (default 4)' -r
complete -c ntpdate -s p -d 'Samples per server, 1 to 8 (default 4)' -r
complete -c ntpdate -s t -d 'Seconds to wait for each reply, with a fraction (default 2)' -r
complete -c ntpdate -l version -d 'Print version'
complete -c ntpdate -s 4 -d 'Resolve names to IPv4 addresses only'
complete -c ntpdate -s 6 -d 'Resolve names to IPv6 addresses only'
complete -c ntpdate -s b -d 'Always step the clock (settimeofday), never slew'
complete -c ntpdate -s B -d 'Always slew the clock (adjtime), never step'
complete -c ntpdate -s d -d 'Debug: show each exchange and why replies were rejected; do not set the clock'
complete -c ntpdate -s q -d 'Query only: print the offsets, do not set the clock'
complete -c ntpdate -s s -d 'Log to syslog instead of the terminal'
complete -c ntpdate -s u -d 'Use an unprivileged source port instead of 123'
complete -c ntpdate -s v -d 'Print the version line first'
complete -c ntpdate -s h -l help -d 'Print help (see more with \'--help\')'
