complete -c hwclock -s h -l help -d 'Print help'
complete -c hwclock -s V -l version -d 'Print version'
