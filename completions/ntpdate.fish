complete -c ntpdate -s h -l help -d 'Print help'
complete -c ntpdate -s V -l version -d 'Print version'
