//! `zdump`: print the time in, and the transitions of, time zones.
//!
//! A drop-in for the glibc 2.36 (tzcode-based) zdump: same options, same
//! output byte for byte, same messages on the same streams, same exit
//! statuses. Local time comes from `crate::tz`, which gives glibc's
//! answers; transitions are found with tzcode's 12-hour sampling and
//! bisection, but only where the zone can change (`tz::transitions`), so
//! the results are identical and the work is a small fraction.
//!
//! Options are parsed here rather than with clap because the classic
//! getopt behaviour is part of the interface: option clusters (`-vc2024`),
//! arguments after zone names (argument permutation, unless
//! `POSIXLY_CORRECT` is set), and getopt's own error messages. The clap
//! definition below documents the options for `--help`-style generation of
//! man pages and completions.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::FromRawFd;

use clap::{Arg, ArgAction, Command};

use crate::tz::civil::BrokenDown;
use crate::tz::transitions;
use crate::tz::{LocalTime, Zone, ZoneDir};

/// `zdump --version` prints "zdump " PKGVERSION TZVERSION. The strings are
/// those of the system zdump this applet replaces, so that scripts which
/// check them keep working.
const PKGVERSION: &str = "(Debian GLIBC 2.36-9+deb12u14) ";
const TZVERSION: &str = "2.36";
/// Where the usage text sends bug reports (as the system zdump's does).
const REPORT_BUGS_TO: &str = "<http://www.debian.org/Bugs/>";
/// Options that take an argument, and options that do not (getopt "c:it:vV").
const OPTS_WITH_ARG: &[u8] = b"ct";
const OPTS_FLAGS: &[u8] = b"ivV";
/// The default `-c` range: years -500 to 2500.
const DEFAULT_LO_YEAR: i64 = -500;
const DEFAULT_HI_YEAR: i64 = 2500;
/// `-v` shows the edges of time: the extreme times and one day inside them.
const SECS_PER_DAY: i64 = 86_400;
/// glibc buffers a non-terminal stdout in blocks of this size.
const STDOUT_BUFFER: usize = 4096;

const WDAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MON_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub fn command() -> Command {
    // zdump has -V (not --version's short form) and no -h.
    Command::new("zdump")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Print the time in, and the transitions of, time zones")
        .disable_version_flag(true)
        .disable_help_flag(true)
        .arg(
            Arg::new("version")
                .long("version")
                .action(ArgAction::Version)
                .help("Output version info"),
        )
        .arg(
            Arg::new("help")
                .long("help")
                .action(ArgAction::Help)
                .help("Output this help"),
        )
        .arg(
            Arg::new("verbose")
                .short('v')
                .action(ArgAction::SetTrue)
                .help("List transitions verbosely"),
        )
        .arg(
            Arg::new("less-verbose")
                .short('V')
                .action(ArgAction::SetTrue)
                .help("List transitions a bit less verbosely"),
        )
        .arg(
            Arg::new("brief")
                .short('i')
                .action(ArgAction::SetTrue)
                .help("List transitions briefly (format is experimental)"),
        )
        .arg(
            Arg::new("cut-years")
                .short('c')
                .value_name("[L,]U")
                .help("Start at year L (default -500), end before year U (default 2500)"),
        )
        .arg(
            Arg::new("cut-times")
                .short('t')
                .value_name("[L,]U")
                .help("Start at time L, end before time U (in seconds since 1970)"),
        )
        .arg(
            Arg::new("zones")
                .value_name("TIMEZONE")
                .action(ArgAction::Append)
                .num_args(0..)
                .help("Zone names, zone file paths, or POSIX TZ strings"),
        )
}

pub fn run(args: Vec<OsString>) -> i32 {
    // Like the C program, die quietly when a reader goes away (`| head`).
    // SAFETY: resetting a signal disposition to its default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    let progname = args.first().cloned().unwrap_or_else(|| b"zdump".to_vec());
    let mut z = Zdump::new(progname);
    match z.main(&args[1.min(args.len())..]) {
        Ok(status) => status,
        Err(status) => status,
    }
}

/// The options after parsing.
#[derive(Default)]
struct Options {
    verbose: bool,
    less_verbose: bool,
    brief: bool,
    cut_years: Option<Vec<u8>>,
    cut_times: Option<Vec<u8>>,
    zones: Vec<Vec<u8>>,
}

/// The program's state: its name, its output streams and the warning flags.
struct Zdump {
    progname: Vec<u8>,
    out: Stdout,
    /// A warning was printed for the current zone (one per zone).
    warned: bool,
    /// Something was written to stderr.
    errout: bool,
    stderr_failed: bool,
    /// Width of the zone name column.
    longest: usize,
}

/// glibc's stdout: block-buffered, remembering the first write error.
struct Stdout {
    buf: Vec<u8>,
    error: Option<std::io::Error>,
}

impl Stdout {
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= STDOUT_BUFFER {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if self.error.is_none() {
            if let Err(e) = raw_fd(1).write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }
}

/// A file descriptor of this process, written without being closed.
fn raw_fd(fd: i32) -> ManuallyDrop<File> {
    // SAFETY: fd 1 and 2 stay open for the life of the process, and
    // ManuallyDrop keeps the File from closing them.
    ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
}

/// The C library's message for an I/O error, without Rust's "(os error N)".
fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// C's `strtoimax(s, &end, 10)`: the value (saturated) and the index after
/// it; the index is 0 when there is no number.
fn strtoimax(s: &[u8]) -> (i64, usize) {
    let mut i = 0;
    while matches!(s.get(i), Some(b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        i += 1;
    }
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = i;
    let mut value: i128 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        value = (value * 10 + i128::from(d - b'0')).min(i128::from(u64::MAX));
        i += 1;
    }
    if i == digits {
        return (0, 0);
    }
    let value = if negative { -value } else { value };
    (
        value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        i,
    )
}

/// A `-c`/`-t` argument: `U` or `L,U`. None when it is "wild".
fn parse_range(arg: &[u8]) -> Option<(Option<i64>, i64)> {
    let (lo, lo_end) = strtoimax(arg);
    if lo_end == 0 {
        return None;
    }
    if lo_end == arg.len() {
        return Some((None, lo));
    }
    if arg[lo_end] != b',' {
        return None;
    }
    let rest = &arg[lo_end + 1..];
    let (hi, hi_end) = strtoimax(rest);
    (hi_end != 0 && hi_end == rest.len()).then_some((Some(lo), hi))
}

/// zdump's `yeartot`: the start of `year` in seconds, saturated.
fn year_to_time(year: i64) -> i64 {
    let y = i128::from(year) - 1;
    let days = 365 * (y - 1969) + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
        - (1969 / 4 - 1969 / 100 + 1969 / 400);
    (days * i128::from(SECS_PER_DAY)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// zdump's `dumptime`: "Sun Mar 31 00:59:59 2024".
fn dumptime(tm: &BrokenDown) -> String {
    format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}",
        WDAY_NAMES[tm.wday as usize % 7],
        MON_NAMES[tm.mon as usize % 12],
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec,
        tm.year
    )
}

/// zdump's `format_quoted_string`: double quotes, with backslash escapes.
fn quoted(s: &[u8]) -> Vec<u8> {
    let mut q = vec![b'"'];
    for &c in s {
        let escaped = match c {
            b'"' | b'\\' => c,
            b' ' => b's',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x0b => b'v',
            _ => {
                q.push(c);
                continue;
            }
        };
        q.extend_from_slice(&[b'\\', escaped]);
    }
    q.push(b'"');
    q
}

/// zdump's `format_local_time`: HH, HH:MM or HH:MM:SS.
fn local_time_of_day(tm: &BrokenDown) -> String {
    match (tm.min, tm.sec) {
        (_, s) if s != 0 => format!("{:02}:{:02}:{:02}", tm.hour, tm.min, s),
        (m, _) if m != 0 => format!("{:02}:{:02}", tm.hour, m),
        _ => format!("{:02}", tm.hour),
    }
}

/// zdump's `%Q`: the UT offset, then the abbreviation unless it reads the
/// same, then the DST flag if set, tab separated.
fn offset_abbr_dst(lt: &LocalTime<'_>, ab: &[u8]) -> Vec<u8> {
    let off = i64::from(lt.utoff);
    let negative = off < 0 || (off == 0 && (lt.abbr.first() == Some(&b'-') || lt.abbr == b"zzz"));
    let sign = if negative { '-' } else { '+' };
    let off = off.abs();
    let (hh, mm, ss) = (off / 3600, off / 60 % 60, off % 60);
    let offset = if ss != 0 || hh >= 100 {
        format!("{sign}{hh:02}{mm:02}{ss:02}")
    } else if mm != 0 {
        format!("{sign}{hh:02}{mm:02}")
    } else {
        format!("{sign}{hh:02}")
    };
    let mut q = offset.clone().into_bytes();
    let show_abbr = offset.as_bytes() != ab;
    if show_abbr {
        q.push(b'\t');
        if !ab.is_empty() && ab.iter().all(u8::is_ascii_alphabetic) {
            q.extend_from_slice(ab);
        } else {
            q.extend_from_slice(&quoted(ab));
        }
    }
    if lt.isdst {
        q.extend_from_slice(if show_abbr { b"\t1" } else { b"\t\t1" });
    }
    q
}

impl Zdump {
    fn new(progname: Vec<u8>) -> Zdump {
        Zdump {
            progname,
            out: Stdout {
                buf: Vec::with_capacity(STDOUT_BUFFER * 2),
                error: None,
            },
            warned: false,
            errout: false,
            stderr_failed: false,
            longest: 0,
        }
    }

    /// Writes to stderr (after flushing stdout, as zdump does).
    fn err(&mut self, parts: &[&[u8]]) {
        self.out.flush();
        let msg = parts.concat();
        if raw_fd(2).write_all(&msg).is_err() {
            self.stderr_failed = true;
        }
    }

    fn usage_text(&self) -> Vec<u8> {
        let p = &self.progname;
        let rest = format!(
            " OPTIONS TIMEZONE ...\n\
             Options include:\n  \
             -c [L,]U   Start at year L (default -500), end before year U (default 2500)\n  \
             -t [L,]U   Start at time L, end before time U (in seconds since 1970)\n  \
             -i         List transitions briefly (format is experimental)\n  \
             -v         List transitions verbosely\n  \
             -V         List transitions a bit less verbosely\n  \
             --help     Output this help\n  \
             --version  Output version info\n\
             \n\
             Report bugs to {REPORT_BUGS_TO}.\n"
        );
        [p.as_slice(), b": usage: ", p.as_slice(), rest.as_bytes()].concat()
    }

    fn usage_error(&mut self) -> i32 {
        let text = self.usage_text();
        self.err(&[&text]);
        1
    }

    /// getopt("c:it:vV") with glibc's argument permutation.
    fn parse_options(&mut self, args: &[Vec<u8>]) -> Result<Options, i32> {
        let posixly_correct = std::env::var_os("POSIXLY_CORRECT").is_some();
        let mut o = Options::default();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            if arg.as_slice() == b"--" {
                o.zones.extend(args[i..].iter().cloned());
                break;
            }
            if arg.len() < 2 || arg[0] != b'-' {
                o.zones.push(arg.clone());
                if posixly_correct {
                    o.zones.extend(args[i..].iter().cloned());
                    break;
                }
                continue;
            }
            let mut j = 1;
            while j < arg.len() {
                let c = arg[j];
                j += 1;
                if OPTS_FLAGS.contains(&c) {
                    match c {
                        b'i' => o.brief = true,
                        b'v' => o.verbose = true,
                        _ => o.less_verbose = true,
                    }
                } else if OPTS_WITH_ARG.contains(&c) {
                    let value = if j < arg.len() {
                        arg[j..].to_vec()
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        let p = self.progname.clone();
                        self.err(&[&p, b": option requires an argument -- '", &[c], b"'\n"]);
                        return Err(self.usage_error());
                    };
                    if c == b'c' {
                        o.cut_years = Some(value);
                    } else {
                        o.cut_times = Some(value);
                    }
                    break;
                } else {
                    let p = self.progname.clone();
                    self.err(&[&p, b": invalid option -- '", &[c], b"'\n"]);
                    return Err(self.usage_error());
                }
            }
        }
        if o.zones.len() == 1 && o.zones[0].as_slice() == b"=" {
            return Err(self.usage_error());
        }
        Ok(o)
    }

    /// The UT range to search, from `-c` and `-t`.
    fn cut_range(&mut self, o: &Options) -> Result<(i64, i64), i32> {
        let (mut lo_time, mut hi_time) = (i64::MIN, i64::MAX);
        let (mut lo_year, mut hi_year) = (DEFAULT_LO_YEAR, DEFAULT_HI_YEAR);
        if let Some(arg) = &o.cut_years {
            match parse_range(arg) {
                Some((lo, hi)) => {
                    lo_year = lo.unwrap_or(lo_year);
                    hi_year = hi;
                }
                None => return Err(self.wild('c', arg)),
            }
        }
        if o.cut_years.is_some() || o.cut_times.is_none() {
            lo_time = year_to_time(lo_year);
            hi_time = year_to_time(hi_year);
        }
        if let Some(arg) = &o.cut_times {
            match parse_range(arg) {
                Some((lo, hi)) => {
                    if let Some(lo) = lo.filter(|&lo| lo_time < lo) {
                        lo_time = lo;
                    }
                    hi_time = hi_time.min(hi);
                }
                None => return Err(self.wild('t', arg)),
            }
        }
        Ok((lo_time, hi_time))
    }

    fn wild(&mut self, option: char, arg: &[u8]) -> i32 {
        let p = self.progname.clone();
        let head = format!(": wild -{option} argument ");
        self.err(&[&p, head.as_bytes(), arg, b"\n"]);
        1
    }

    fn main(&mut self, args: &[Vec<u8>]) -> Result<i32, i32> {
        for arg in args {
            if arg.as_slice() == b"--version" {
                self.out
                    .put(format!("zdump {PKGVERSION}{TZVERSION}\n").as_bytes());
                return Ok(self.close_stdout());
            }
            if arg.as_slice() == b"--help" {
                let text = self.usage_text();
                self.out.put(&text);
                return Ok(self.close_stdout());
            }
        }
        let o = self.parse_options(args)?;
        let listing = o.brief || o.verbose || o.less_verbose;
        let (cut_lo, cut_hi) = if listing {
            self.cut_range(&o)?
        } else {
            (i64::MIN, i64::MAX)
        };
        // zdump uses 1 if the clock reads exactly 0, to mean "now" mode.
        let now = if listing { 0 } else { now().max(1) };
        self.longest = o
            .zones
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .min(i32::MAX as usize);

        let dir = ZoneDir::from_env();
        for name in &o.zones {
            let zone = dir.resolve(Some(name));
            if !listing {
                self.show(&zone, name, now, false);
                continue;
            }
            self.warned = false;
            self.list(&zone, name, &o, cut_lo, cut_hi);
        }
        let status = self.close_stdout();
        if status == 0 && self.errout && self.stderr_failed {
            return Ok(1);
        }
        Ok(status)
    }

    /// The `-v`, `-V` and `-i` listings of one zone.
    fn list(&mut self, zone: &Zone, name: &[u8], o: &Options, cut_lo: i64, cut_hi: i64) {
        let extremes = !(o.brief || o.less_verbose);
        let mut t = i64::MIN;
        if extremes {
            self.show(zone, name, t, true);
            t += SECS_PER_DAY;
            self.show(zone, name, t, true);
        }
        t = t.max(cut_lo);
        if o.brief {
            if let Some(lt) = zone.localtime(t) {
                let ab = lt.abbr.to_vec();
                let mut line = b"\nTZ=".to_vec();
                line.extend_from_slice(&quoted(name));
                line.push(b'\n');
                line.extend_from_slice(b"-\t-\t");
                line.extend_from_slice(&offset_abbr_dst(&lt, &ab));
                line.push(b'\n');
                self.out.put(&line);
            }
        }
        transitions::scan(zone, t, cut_hi, |at| {
            if o.brief {
                self.brief_line(zone, at);
            } else {
                self.show(zone, name, at - 1, true);
                self.show(zone, name, at, true);
            }
        });
        if extremes {
            self.show(zone, name, i64::MAX - SECS_PER_DAY, true);
            self.show(zone, name, i64::MAX, true);
        }
    }

    /// One `-i` transition line: date, local time, offset, abbreviation, DST.
    fn brief_line(&mut self, zone: &Zone, t: i64) {
        let line = match zone.localtime(t) {
            None => format!("{t}\n").into_bytes(),
            Some(lt) => {
                let tm = &lt.tm;
                let mut line = format!(
                    "{}-{:02}-{:02}\t{}\t",
                    tm.year,
                    tm.mon + 1,
                    tm.mday,
                    local_time_of_day(tm)
                )
                .into_bytes();
                line.extend_from_slice(&offset_abbr_dst(&lt, lt.abbr));
                line.push(b'\n');
                line
            }
        };
        self.out.put(&line);
    }

    /// zdump's `show`: one line for time `t` in `zone`.
    fn show(&mut self, zone: &Zone, name: &[u8], t: i64, verbose: bool) {
        let mut line = name.to_vec();
        line.resize(self.longest.max(name.len()), b' ');
        line.extend_from_slice(b"  ");
        if verbose {
            match zone.gmtime(t) {
                Some(gm) => line.extend_from_slice(format!("{} UT", dumptime(&gm)).as_bytes()),
                None => line.extend_from_slice(t.to_string().as_bytes()),
            }
            line.extend_from_slice(b" = ");
        }
        let local = zone.localtime(t);
        match &local {
            None => line.extend_from_slice(b"NULL"),
            Some(lt) => {
                line.extend_from_slice(dumptime(&lt.tm).as_bytes());
                if !lt.abbr.is_empty() {
                    line.push(b' ');
                    line.extend_from_slice(lt.abbr);
                }
                if verbose {
                    let extra = format!(" isdst={} gmtoff={}", u8::from(lt.isdst), lt.utoff);
                    line.extend_from_slice(extra.as_bytes());
                }
            }
        }
        line.push(b'\n');
        self.out.put(&line);
        if let Some(lt) = local.filter(|lt| !lt.abbr.is_empty()) {
            self.check_abbreviation(lt.abbr, name);
        }
    }

    /// zdump's `abbrok`: warn (once per zone) about odd abbreviations.
    fn check_abbreviation(&mut self, abbr: &[u8], zone: &[u8]) {
        if self.warned {
            return;
        }
        let ok = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'+';
        let problem: &[u8] = if !abbr.iter().all(ok) {
            b"has characters other than ASCII alphanumerics, '-' or '+'"
        } else if abbr.len() < 3 {
            b"has fewer than 3 characters"
        } else if abbr.len() > 6 {
            b"has more than 6 characters"
        } else {
            return;
        };
        let p = self.progname.clone();
        self.err(&[
            &p,
            b": warning: zone \"",
            zone,
            b"\" abbreviation \"",
            abbr,
            b"\" ",
            problem,
            b"\n",
        ]);
        self.warned = true;
        self.errout = true;
    }

    /// zdump's `close_file(stdout)`: report a failed write, return status.
    fn close_stdout(&mut self) -> i32 {
        if self.out.error.is_none() {
            self.out.flush();
            if let Some(e) = self.out.error.take() {
                let (p, msg) = (self.progname.clone(), strerror(&e));
                self.err(&[&p, b": ", msg.as_bytes(), b"\n"]);
                return 1;
            }
            return 0;
        }
        let p = self.progname.clone();
        self.err(&[&p, b": I/O error\n"]);
        1
    }
}

/// The current time in seconds since 1970, as `time(NULL)` gives it.
fn now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs_f64().ceil() as u64).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tz::civil;

    #[test]
    fn ranges_parse_like_strtoimax() {
        assert_eq!(parse_range(b"2024"), Some((None, 2024)));
        assert_eq!(parse_range(b" -5,+7"), Some((Some(-5), 7)));
        assert_eq!(parse_range(b"5,"), None);
        assert_eq!(parse_range(b"x"), None);
        assert_eq!(parse_range(b"1,2x"), None);
        assert_eq!(parse_range(b"99999999999999999999"), Some((None, i64::MAX)));
    }

    #[test]
    fn year_starts() {
        assert_eq!(year_to_time(1970), 0);
        assert_eq!(year_to_time(2024), 1_704_067_200);
        assert_eq!(year_to_time(1900), -2_208_988_800);
        assert_eq!(year_to_time(i64::MAX), i64::MAX);
        assert_eq!(year_to_time(i64::MIN), i64::MIN);
        assert_eq!(year_to_time(-500), civil::year_start(-500));
    }

    #[test]
    fn quoting_escapes_like_zdump() {
        assert_eq!(quoted(b"Europe/London"), b"\"Europe/London\"");
        assert_eq!(quoted(b"a b\"c\\\t"), b"\"a\\sb\\\"c\\\\\\t\"");
    }

    #[test]
    fn local_time_drops_zero_fields() {
        let tm = civil::offtime(3600 * 2, 0).unwrap();
        assert_eq!(local_time_of_day(&tm), "02");
        let tm = civil::offtime(3600 * 2 + 60 * 30, 0).unwrap();
        assert_eq!(local_time_of_day(&tm), "02:30");
        let tm = civil::offtime(3600 * 2 + 5, 0).unwrap();
        assert_eq!(local_time_of_day(&tm), "02:00:05");
    }
}
