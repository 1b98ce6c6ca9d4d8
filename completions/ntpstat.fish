complete -c ntpstat -s h -l help -d 'Print help'
complete -c ntpstat -s V -l version -d 'Print version'
