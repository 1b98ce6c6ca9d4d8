//! Linux RTC access: filled in by the hwclock issue.
