complete -c zdump -s h -l help -d 'Print help'
complete -c zdump -s V -l version -d 'Print version'
