//! Real peer programs (chrony, ntpsec, openntpd, ntpstat), fetched by scripts/fetch-peers.sh.
