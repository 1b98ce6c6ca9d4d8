complete -c zdump -s c -d 'Start at year L (default -500), end before year U (default 2500)' -r
complete -c zdump -s t -d 'Start at time L, end before time U (in seconds since 1970)' -r
complete -c zdump -l version -d 'Output version info'
complete -c zdump -l help -d 'Output this help'
complete -c zdump -s v -d 'List transitions verbosely'
complete -c zdump -s V -d 'List transitions a bit less verbosely'
complete -c zdump -s i -d 'List transitions briefly (format is experimental)'
