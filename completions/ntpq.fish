complete -c ntpq -s h -l help -d 'Print help'
complete -c ntpq -s V -l version -d 'Print version'
