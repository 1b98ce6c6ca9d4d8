complete -c hwclock -s f -l rtc -d 'use an alternate file to /dev/rtc0' -r -F
complete -c hwclock -l date -d 'date/time input for --set and --predict' -r
complete -c hwclock -l delay -d 'delay used when set new RTC time' -r
complete -c hwclock -l adjfile -d 'use an alternate file to /etc/adjtime' -r -F
complete -c hwclock -s r -l show -d 'display the RTC time'
complete -c hwclock -l get -d 'display drift corrected RTC time'
complete -c hwclock -l set -d 'set the RTC according to --date'
complete -c hwclock -s s -l hctosys -d 'set the system time from the RTC'
complete -c hwclock -s w -l systohc -d 'set the RTC from the system time'
complete -c hwclock -l systz -d 'send timescale configurations to the kernel'
complete -c hwclock -s a -l adjust -d 'adjust the RTC to account for systematic drift'
complete -c hwclock -l predict -d 'predict the drifted RTC time according to --date'
complete -c hwclock -s u -l utc -d 'the RTC timescale is UTC'
complete -c hwclock -s l -l localtime -d 'the RTC timescale is Local'
complete -c hwclock -l directisa -d 'use the ISA bus instead of /dev/rtc0 access (not supported: the RTC device is used)'
complete -c hwclock -l update-drift -d 'update the RTC drift factor'
complete -c hwclock -l noadjfile -d 'do not use /etc/adjtime'
complete -c hwclock -l test -d 'dry run; implies --verbose'
complete -c hwclock -s v -l verbose -d 'display more details'
complete -c hwclock -s D -l debug
complete -c hwclock -s h -l help -d 'display this help'
complete -c hwclock -s V -l version -d 'display version'
