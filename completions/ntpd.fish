complete -c ntpd -s h -l help -d 'Print help'
complete -c ntpd -s V -l version -d 'Print version'
