//! ntpbox ntpd as a running daemon on a spare loopback port, with
//! `disable ntp` (it never touches the clock and runs without CAP_SYS_TIME):
//! what clients get, restrict and rate limiting from different 127.x.y.z
//! sources, hostile packets, the command line, daemonizing and signals,
//! and real NTP implementations as its clients.

#[path = "../common/mod.rs"]
mod common;

mod auth_ntpsec;
mod cli;
mod client;
mod daemon;
mod flood;
mod hostile;
mod peers;
mod restrict;
mod seccomp;
mod serve;
mod upstream;
