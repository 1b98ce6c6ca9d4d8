//! The work of each hwclock function, in util-linux's order of steps and
//! with its --verbose messages. Times are Unix microseconds (i64).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use nix::errno::Errno;

use super::adjtime::{self, Adjtime, Scale};
use super::date::MICROS_PER_SEC;
use super::drift::{self, FactorUpdate, MAX_DRIFT};
use super::zone::{to_local, SystemZone, Zone};
use super::{Function, Options, FAILURE};
use crate::clock::{Clock, LinuxClock};
use crate::proto::UnixTime;
use crate::rtc::{Rtc, RtcError, RtcTime, TickMethod, DEFAULT_DEVICES};

/// rtc_cmos (the MC146818 family) moves to the next second 500 ms after it
/// is set, not 1 s: writing second N at X.5 makes it tick to N+1 at X+1.0.
const CMOS_SET_DELAY: f64 = 0.5;

/// The driver whose set delay is `CMOS_SET_DELAY`; others tick a full
/// second after being set. Unknown drivers get the CMOS delay, as in
/// util-linux.
const CMOS_DRIVER: &str = "rtc_cmos";

/// How late after the target instant an RTC write still counts as on time,
/// at first; each miss doubles the increment (util-linux's scheme).
const FIRST_TOLERANCE_US: i64 = 1000;

/// Sleep until this close to the target, then spin: a sleep can overshoot
/// by scheduler latency (several ms on a busy or emulated machine), a short
/// spin cannot.
const SPIN_MARGIN_US: i64 = 20_000;

/// Added to a permission error: what is missing.
const NEEDS_CAP: &str = " (needs CAP_SYS_TIME; run as root)";

/// The current system time, Unix microseconds.
pub fn now_micros() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

/// `SECONDS.MICROS` as util-linux prints a timeval.
pub fn seconds_dot_micros(t: i64) -> String {
    format!(
        "{}.{:06}",
        t.div_euclid(MICROS_PER_SEC),
        t.rem_euclid(MICROS_PER_SEC)
    )
}

fn whole_seconds(t: i64) -> i64 {
    t.div_euclid(MICROS_PER_SEC)
}

fn to_micros(seconds: f64) -> i64 {
    (seconds * MICROS_PER_SEC as f64).round() as i64
}

/// The RTC could not be found; the top level adds util-linux's hint.
#[derive(Debug)]
struct NoClockAccess;

impl std::fmt::Display for NoClockAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cannot access the Hardware Clock via any known method.")
    }
}

impl std::error::Error for NoClockAccess {}

/// Runs the function OPTS names and returns the exit status.
pub fn run(opts: &Options, startup: i64) -> i32 {
    let result = Session::new(opts, startup).and_then(|mut s| s.execute());
    if opts.test {
        println!("Test mode: nothing was changed.");
    }
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hwclock: {e:#}");
            if e.downcast_ref::<NoClockAccess>().is_some() && !opts.verbose {
                eprintln!(
                    "hwclock: Use the --verbose option to see the details of our search for an access method."
                );
            }
            FAILURE
        }
    }
}

/// One invocation's state.
struct Session<'a> {
    opts: &'a Options,
    startup: i64,
    zone: SystemZone,
    rtc: Option<Rtc>,
    adj: Adjtime,
    /// The adjtime data changed and must be written back.
    dirty: bool,
    /// The RTC keeps UTC (else local time).
    universal: bool,
}

impl<'a> Session<'a> {
    fn new(opts: &'a Options, startup: i64) -> Result<Session<'a>> {
        let needs_rtc = !matches!(opts.function, Function::SysTz | Function::Predict);
        let mut s = Session {
            opts,
            startup,
            zone: SystemZone::from_env(),
            rtc: None,
            adj: Adjtime::default(),
            dirty: false,
            universal: true,
        };
        if needs_rtc {
            s.rtc = Some(s.open_rtc()?);
        }
        let scale_given = opts.utc || opts.localtime;
        if let Some(path) = &opts.adjfile {
            if !(opts.function == Function::SysTz && scale_given) {
                s.adj = s.read_adjtime(path)?;
            }
        }
        s.universal = opts.utc || (!opts.localtime && s.adj.scale != Scale::Local);
        s.say(format!(
            "Assuming hardware clock is kept in {} time.",
            if s.universal { "UTC" } else { "local" }
        ));
        Ok(s)
    }

    /// A --verbose line.
    fn say(&self, line: impl AsRef<str>) {
        if self.opts.verbose {
            println!("{}", line.as_ref());
        }
    }

    fn open_rtc(&self) -> Result<Rtc> {
        if self.opts.directisa {
            self.say("Direct ISA access is not supported; using the RTC device.");
        }
        let candidates: Vec<PathBuf> = match &self.opts.rtc {
            Some(p) => vec![p.clone()],
            None => DEFAULT_DEVICES.iter().map(PathBuf::from).collect(),
        };
        let mut refused = None;
        for path in &candidates {
            self.say(format!("Trying to open: {}", path.display()));
            match Rtc::open(path) {
                Ok(rtc) => {
                    self.say("Using the rtc interface to the clock.");
                    return Ok(rtc);
                }
                // a device that is there but refuses us is worth naming
                Err(e) if !is_absent(&e) => {
                    refused.get_or_insert(e);
                }
                Err(_) => {}
            }
        }
        if let Some(e) = refused {
            return Err(e.into());
        }
        self.say("No usable clock interface found.");
        Err(NoClockAccess.into())
    }

    fn read_adjtime(&self, path: &Path) -> Result<Adjtime> {
        let text = adjtime::read(path)
            .map_err(|e| anyhow!("cannot open {}: {}", path.display(), describe(&e)))?;
        let Some(text) = text else {
            return Ok(Adjtime::default());
        };
        let (adj, bad) = adjtime::parse(&text);
        for line in bad {
            eprintln!("hwclock: warning: {}: {line}", path.display());
        }
        self.say(format!(
            "Last drift adjustment done at {} seconds after 1969",
            adj.last_adjust
        ));
        self.say(format!(
            "Last calibration done at {} seconds after 1969",
            adj.last_calibration
        ));
        self.say(format!(
            "Hardware clock is on {} time",
            match adj.scale {
                Scale::Utc => "UTC",
                Scale::Local => "local",
                Scale::Unknown => "unknown",
            }
        ));
        Ok(adj)
    }

    fn execute(&mut self) -> Result<()> {
        let f = self.opts.function;
        if matches!(f, Function::Set | Function::SysToHc | Function::Adjust) {
            let wanted = if self.universal {
                Scale::Utc
            } else {
                Scale::Local
            };
            if self.adj.scale != wanted {
                self.adj.scale = wanted;
                self.dirty = true;
            }
        }
        match f {
            Function::Predict => return self.predict(),
            Function::SysTz => return self.set_system_clock(None),
            _ => {}
        }

        // Setting the RTC needs no reading of it unless the drift is to be
        // measured: that keeps a garbage RTC settable and shutdown fast.
        let mut reading = None;
        let sets_only = matches!(f, Function::Set | Function::SysToHc) && !self.opts.update_drift;
        if !sets_only {
            reading = Some(self.read_rtc()?);
        }
        match (f, reading) {
            (Function::Show | Function::Get, Some(r)) => {
                println!("{}", self.display(r.at_startup));
            }
            (Function::Set, r) => {
                let (_, target) = self.opts.date.clone().unwrap_or_default();
                let target_secs = whole_seconds(target);
                self.set_rtc_exact(target_secs, self.startup)?;
                if self.opts.adjfile.is_some() {
                    let rtc = r.map_or(0.0, |r| r.at_startup as f64 / 1e6);
                    self.recalibrate(target_secs as f64, rtc);
                }
            }
            (Function::SysToHc, r) => {
                let now = now_micros();
                let reference = whole_seconds(now);
                self.set_rtc_exact(reference, reference * MICROS_PER_SEC)?;
                if self.opts.adjfile.is_some() {
                    let rtc = r.map_or(0.0, |r| r.corrected as f64 / 1e6);
                    self.recalibrate(now as f64 / 1e6, rtc);
                }
            }
            (Function::Adjust, Some(r)) => self.adjust(r)?,
            (Function::HcToSys, Some(r)) => return self.set_system_clock(Some(r)),
            _ => unreachable!("every function that reads the RTC has a reading"),
        }
        if self.opts.adjfile.is_some() && self.dirty {
            self.save_adjtime()?;
        }
        Ok(())
    }

    fn rtc(&self) -> &Rtc {
        self.rtc
            .as_ref()
            .expect("the RTC is open for this function")
    }

    /// Waits for the edge of an RTC second and reads the RTC there.
    fn read_rtc(&self) -> Result<Reading> {
        let rtc = self.rtc();
        self.say("Waiting for clock tick...");
        match rtc.wait_for_tick() {
            Ok(TickMethod::Polled) => {
                self.say(format!(
                    "Waiting in loop for time from {} to change",
                    rtc.path().display()
                ));
                self.say("...got clock tick");
            }
            Ok(TickMethod::Interrupt) => self.say("...got clock tick"),
            Err(e) => {
                self.say("...synchronization failed");
                return Err(e.into());
            }
        }
        let raw = rtc.read_time()?;
        let read_time = now_micros();
        self.say(format!("Time read from Hardware Clock: {raw}"));
        let Some(secs) = self.rtc_to_unix(raw) else {
            self.say(format!("Invalid values in hardware clock: {raw}"));
            bail!("RTC read returned an invalid value.");
        };
        self.say(format!("Hw clock time : {raw} = {secs} seconds since 1969"));
        let correction = drift::correction_at(&self.adj, secs);
        self.say(since_last_adjustment(secs - self.adj.last_adjust));
        self.say(format!(
            "Calculated Hardware Clock drift is {correction:.6} seconds"
        ));
        let raw_us = secs * MICROS_PER_SEC;
        let corrected = raw_us + to_micros(correction);
        let shown = if self.opts.function == Function::Show {
            raw_us
        } else {
            corrected
        };
        Ok(Reading {
            read_time,
            correction,
            corrected,
            at_startup: shown + (self.startup - read_time),
        })
    }

    /// The RTC's fields as Unix seconds, in the RTC's time scale.
    fn rtc_to_unix(&self, t: RtcTime) -> Option<i64> {
        let civil = t.to_naive()?;
        if self.universal {
            Some(civil.and_utc().timestamp())
        } else {
            self.zone.to_utc(civil)
        }
    }

    fn unix_to_rtc(&self, secs: i64) -> Result<RtcTime> {
        let civil = if self.universal {
            chrono::DateTime::from_timestamp(secs, 0).map(|d| d.naive_utc())
        } else {
            to_local(&self.zone, secs)
        };
        civil
            .map(RtcTime::from_naive)
            .ok_or_else(|| anyhow!("time {secs} is out of range."))
    }

    /// `2026-11-21 23:50:01.123456+00:00`, in local time.
    fn display(&self, t: i64) -> String {
        let secs = whole_seconds(t);
        let offset = self.zone.offset_at(secs);
        let Some(local) = to_local(&self.zone, secs) else {
            return format!("{secs} (out of range)");
        };
        let sign = if offset < 0 { '-' } else { '+' };
        let off = offset.unsigned_abs();
        format!(
            "{}.{:06}{sign}{:02}:{:02}",
            local.format("%Y-%m-%d %H:%M:%S"),
            t.rem_euclid(MICROS_PER_SEC),
            off / 3600,
            off % 3600 / 60
        )
    }

    fn predict(&self) -> Result<()> {
        let (_, target) = self.opts.date.clone().unwrap_or_default();
        let target_secs = whole_seconds(target);
        let correction = drift::correction_at(&self.adj, target_secs);
        self.say(since_last_adjustment(target_secs - self.adj.last_adjust));
        self.say(format!(
            "Calculated Hardware Clock drift is {correction:.6} seconds"
        ));
        let predicted = target_secs * MICROS_PER_SEC - to_micros(correction);
        self.say(format!("Target date:   {target_secs}"));
        self.say(format!("Predicted RTC: {}", whole_seconds(predicted)));
        println!("{}", self.display(predicted));
        Ok(())
    }

    fn adjust(&mut self, r: Reading) -> Result<()> {
        if !drift::adjustment_needed(r.correction) {
            println!("Needed adjustment is less than one second, so not setting clock.");
            return Ok(());
        }
        if self.adj.last_adjust == 0 {
            self.say("Not setting clock because last adjustment time is zero, so history is bad.");
            return Ok(());
        }
        if self.adj.drift_factor.abs() > MAX_DRIFT {
            self.say(format!(
                "Not setting clock because drift factor {:.6} is far too high.",
                self.adj.drift_factor
            ));
            return Ok(());
        }
        // the corrected time held at read_time; its fraction moves the
        // reference back so that a whole second can be written
        let whole = whole_seconds(r.corrected);
        let fraction = r.corrected - whole * MICROS_PER_SEC;
        self.set_rtc_exact(whole, r.read_time - fraction)?;
        self.adj.last_adjust = whole;
        self.adj.not_adjusted = 0.0;
        self.dirty = true;
        Ok(())
    }

    fn recalibrate(&mut self, now: f64, rtc_corrected: f64) {
        match drift::recalibrate(&mut self.adj, now, rtc_corrected, self.opts.update_drift) {
            FactorUpdate::NotRequested => self.say(
                "Not adjusting drift factor because the --update-drift option was not used.",
            ),
            FactorUpdate::NoHistory => self.say(
                "Not adjusting drift factor because last calibration time is zero,\n\
                 so history is bad and calibration startover is necessary.",
            ),
            FactorUpdate::TooSoon => self.say(
                "Not adjusting drift factor because it has been less than four hours since the last calibration.",
            ),
            FactorUpdate::Reset { computed } => self.say(format!(
                "Clock drift factor was calculated as {computed:.6} seconds/day.\n\
                 It is far too much. Resetting to zero."
            )),
            FactorUpdate::Updated {
                drifted,
                span,
                old,
                change,
            } => self.say(format!(
                "Clock drifted {drifted:.6} seconds in the past {span:.6} seconds\n\
                 in spite of a drift factor of {old:.6} seconds/day.\n\
                 Adjusting drift factor by {change:.6} seconds/day"
            )),
        }
        self.dirty = true;
    }

    /// Sets the RTC so that it reads `hw_secs` at system time `reference`
    /// (microseconds, maybe in the past) and runs on from there: waits for
    /// an instant `reference + delay + n` seconds and writes `hw_secs + n`.
    fn set_rtc_exact(&self, hw_secs: i64, reference: i64) -> Result<()> {
        let delay = match self.opts.delay {
            Some(d) => d,
            None => {
                let name = self.rtc().driver_name();
                if let Some(n) = &name {
                    self.say(format!("RTC type: '{n}'"));
                }
                match name.as_deref() {
                    Some(CMOS_DRIVER) | None => CMOS_SET_DELAY,
                    Some(_) => 0.0,
                }
            }
        };
        self.say(format!("Using delay: {delay:.6} seconds"));
        let first = reference + to_micros(delay);
        let mut tolerance = FIRST_TOLERANCE_US;
        let mut increment = FIRST_TOLERANCE_US;
        let (written_at, target, n) = loop {
            let now = now_micros();
            // the next instant first + n s that is not yet past
            let n = ((now - first).max(0) + MICROS_PER_SEC - 1) / MICROS_PER_SEC;
            let target = first + n * MICROS_PER_SEC;
            let now = wait_until(target);
            let late = now - target;
            if (0..=tolerance).contains(&late) {
                break (now, target, n);
            }
            if late < 0 {
                self.say(format!(
                    "time jumped backward to {} - retargeting",
                    seconds_dot_micros(now)
                ));
                continue;
            }
            self.say(format!(
                "missed it - {} is too far past {} ({:.6} > {:.6})",
                seconds_dot_micros(now),
                seconds_dot_micros(target),
                late as f64 / 1e6,
                tolerance as f64 / 1e6
            ));
            tolerance += increment;
            increment *= 2;
        };
        let new_hw = hw_secs + n;
        self.say(format!(
            "{} is close enough to {} ({:.6} < {:.6})\nSet RTC to {new_hw} ({hw_secs} + {n}; refsystime = {})",
            seconds_dot_micros(written_at),
            seconds_dot_micros(target),
            (written_at - target) as f64 / 1e6,
            tolerance as f64 / 1e6,
            seconds_dot_micros(reference)
        ));
        let fields = self.unix_to_rtc(new_hw)?;
        self.say(format!(
            "Setting Hardware Clock to {:02}:{:02}:{:02} = {new_hw} seconds since 1969",
            fields.hour, fields.minute, fields.second
        ));
        if !self.opts.test {
            if let Err(e) = self.rtc().set_time(fields) {
                let denied = matches!(e.errno(), Some(Errno::EACCES | Errno::EPERM));
                bail!("{e}{}", if denied { NEEDS_CAP } else { "" });
            }
            self.say("ioctl(RTC_SET_TIME) was successful.");
        }
        Ok(())
    }

    /// `--hctosys` (with a reading) and `--systz` (without): the kernel's
    /// time zone, the warp of a local-time RTC, and the system time.
    fn set_system_clock(&self, reading: Option<Reading>) -> Result<()> {
        let at = reading.map_or(self.startup, |r| r.corrected);
        let minutes_west = -self.zone.offset_at(whole_seconds(at)) / 60;
        // the kernel zone needs setting unless it is UTC on a UTC RTC
        let set_zone = !(self.universal && minutes_west == 0);
        if self.universal {
            self.say("Calling settimeofday(NULL, 0) to lock the warp_clock function.");
            if set_zone {
                self.say(format!(
                    "Calling settimeofday(NULL, {minutes_west}) to set the kernel timezone."
                ));
            }
        } else {
            self.say(format!(
                "Calling settimeofday(NULL, {minutes_west}) to warp System time, set PCIL and the kernel tz."
            ));
        }
        // carry the reading forward by the time spent since it was taken
        let new_time = reading.map(|r| r.corrected + (now_micros() - r.read_time));
        if let Some(t) = new_time {
            self.say(format!(
                "Calling settimeofday({}, NULL) to set the System time.",
                seconds_dot_micros(t)
            ));
        }
        if self.opts.test {
            return Ok(());
        }
        // The first zone setting after boot decides the kernel's view of
        // the RTC for its 11-minute mode: a UTC one "locks" it as UTC; a
        // non-zero one on a local RTC shifts the system clock by the offset.
        if self.universal {
            set_kernel_timezone(0)?;
        }
        if set_zone {
            set_kernel_timezone(minutes_west)?;
        }
        if let Some(t) = reading.map(|r| r.corrected + (now_micros() - r.read_time)) {
            let secs = whole_seconds(t);
            let nanos = (t - secs * MICROS_PER_SEC) as u32 * 1000;
            LinuxClock::realtime()
                .set_time(UnixTime::new(secs, nanos))
                .map_err(|e| anyhow!("{e}"))?;
        }
        Ok(())
    }

    fn save_adjtime(&self) -> Result<()> {
        let path = self
            .opts
            .adjfile
            .as_deref()
            .expect("an adjtime file is in use");
        let text = adjtime::format(&self.adj);
        self.say(format!("New {} data:\n{}", path.display(), text.trim_end()));
        if !self.opts.test {
            adjtime::write_atomic(path, &text)
                .map_err(|e| anyhow!("cannot update {}: {}", path.display(), describe(&e)))?;
        }
        Ok(())
    }
}

/// Whether opening failed because there is no such device (rather than
/// because it refused us).
fn is_absent(e: &RtcError) -> bool {
    matches!(
        e.errno(),
        Some(Errno::ENOENT | Errno::ENODEV | Errno::ENXIO)
    )
}

/// An I/O error's reason without Rust's "(os error N)" suffix.
fn describe(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

fn since_last_adjustment(seconds: i64) -> String {
    let plural = if seconds == 1 { "" } else { "s" };
    format!("Time since last adjustment is {seconds} second{plural}")
}

/// One synchronized reading of the RTC.
#[derive(Clone, Copy, Debug)]
struct Reading {
    /// System time right after the read.
    read_time: i64,
    /// The drift correction due, seconds.
    correction: f64,
    /// The RTC's time at `read_time`, drift corrected.
    corrected: i64,
    /// What the RTC read (drift corrected except for --show) at startup.
    at_startup: i64,
}

/// Sleeps, then spins, until the system time reaches `target`; returns the
/// time then. Returns early if the clock jumps back past the start.
fn wait_until(target: i64) -> i64 {
    let start = now_micros();
    let coarse = target - start - SPIN_MARGIN_US;
    if coarse > 0 {
        std::thread::sleep(Duration::from_micros(coarse as u64));
    }
    loop {
        let now = now_micros();
        if now >= target || now < start {
            return now;
        }
        std::hint::spin_loop();
    }
}

/// `struct timezone` of settimeofday(2).
#[repr(C)]
struct KernelTimezone {
    minutes_west: libc::c_int,
    dst_time: libc::c_int,
}

/// Sets the kernel's time zone (settimeofday with a NULL time). Done with
/// the raw system call: glibc refuses a NULL time with a zone since 2.31.
fn set_kernel_timezone(minutes_west: i32) -> Result<()> {
    let tz = KernelTimezone {
        minutes_west,
        dst_time: 0,
    };
    // SAFETY: a NULL timeval and a valid timezone, as settimeofday(2) takes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_settimeofday,
            std::ptr::null::<libc::timeval>(),
            &tz as *const KernelTimezone,
        )
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        let denied = err.raw_os_error() == Some(libc::EPERM);
        bail!(
            "cannot set the kernel time zone: {}{}",
            describe(&err),
            if denied { NEEDS_CAP } else { "" }
        );
    }
    Ok(())
}
