//! ntpbox: the classic Unix time tools in one multi-call binary.
//!
//! The library holds everything the applets share: wire formats (`proto`),
//! the clock algorithms (`engine`), clocks (`clock`), sockets (`net`),
//! configuration parsers (`config`), the RTC (`rtc`) and local time (`tz`).
//! `applets` holds one module per command-line program.

pub mod applets;
pub mod auth;
pub mod clock;
pub mod config;
pub mod engine;
pub mod net;
pub mod proto;
pub mod rtc;
pub mod tz;
