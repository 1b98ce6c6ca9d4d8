//! `hwclock`: query or set the hardware clock (RTC), with util-linux 2.38's
//! options, output, /etc/adjtime handling and exit statuses (0 or 1).

mod adjtime;
mod date;
mod drift;
mod ops;
mod zone;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};

/// The exit status of every failure, as util-linux 2.38 uses it.
const FAILURE: i32 = 1;

/// The longest `--delay` accepted, seconds. Real RTCs need 0 (most) or 0.5
/// (the MC146818 family); anything near a second is a typo.
const MAX_DELAY: f64 = 5.0;

/// What hwclock was asked to do; `--show` when nothing else is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Function {
    Show,
    Get,
    Set,
    HcToSys,
    SysToHc,
    SysTz,
    Adjust,
    Predict,
}

/// The functions in the order util-linux names them when more than one is
/// given: (option id, option as written, function).
const FUNCTIONS: &[(&str, &str, Function)] = &[
    ("adjust", "--adjust", Function::Adjust),
    ("show", "--show", Function::Show),
    ("hctosys", "--hctosys", Function::HcToSys),
    ("systohc", "--systohc", Function::SysToHc),
    ("get", "--get", Function::Get),
    ("predict", "--predict", Function::Predict),
    ("set", "--set", Function::Set),
    ("systz", "--systz", Function::SysTz),
];

/// Everything the command line says, checked.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub function: Function,
    pub utc: bool,
    pub localtime: bool,
    pub rtc: Option<PathBuf>,
    /// `--date` as given, and its value in Unix microseconds.
    pub date: Option<(String, i64)>,
    pub delay: Option<f64>,
    pub update_drift: bool,
    /// None with --noadjfile.
    pub adjfile: Option<PathBuf>,
    pub test: bool,
    pub verbose: bool,
    pub directisa: bool,
}

fn flag(id: &'static str, help: &'static str) -> Arg {
    Arg::new(id).long(id).action(ArgAction::SetTrue).help(help)
}

pub fn command() -> Command {
    Command::new("hwclock")
        .about("Query or set the hardware clock (RTC)")
        .after_help(
            "With no function, --show. The RTC keeps UTC or local time, as the third \
             line of /etc/adjtime (or --utc/--localtime) says; without an adjtime file, UTC.",
        )
        .disable_version_flag(true)
        .disable_help_flag(true)
        .args_override_self(true)
        .next_help_heading("Functions")
        .arg(flag("show", "display the RTC time").short('r'))
        .arg(flag("get", "display drift corrected RTC time"))
        .arg(flag("set", "set the RTC according to --date"))
        .arg(flag("hctosys", "set the system time from the RTC").short('s'))
        .arg(flag("systohc", "set the RTC from the system time").short('w'))
        .arg(flag("systz", "send timescale configurations to the kernel"))
        .arg(flag("adjust", "adjust the RTC to account for systematic drift").short('a'))
        .arg(flag(
            "predict",
            "predict the drifted RTC time according to --date",
        ))
        .next_help_heading("Options")
        .arg(flag("utc", "the RTC timescale is UTC").short('u'))
        .arg(flag("localtime", "the RTC timescale is Local").short('l'))
        .arg(
            Arg::new("rtc")
                .short('f')
                .long("rtc")
                .value_name("file")
                .value_parser(clap::value_parser!(PathBuf))
                .help("use an alternate file to /dev/rtc0"),
        )
        .arg(flag(
            "directisa",
            "use the ISA bus instead of /dev/rtc0 access (not supported: the RTC device is used)",
        ))
        .arg(
            Arg::new("date")
                .long("date")
                .value_name("time")
                .allow_hyphen_values(true)
                .help("date/time input for --set and --predict"),
        )
        .arg(
            Arg::new("delay")
                .long("delay")
                .value_name("sec")
                .allow_hyphen_values(true)
                .help("delay used when set new RTC time"),
        )
        .arg(flag("update-drift", "update the RTC drift factor"))
        .arg(flag("noadjfile", "do not use /etc/adjtime"))
        .arg(
            Arg::new("adjfile")
                .long("adjfile")
                .value_name("file")
                .value_parser(clap::value_parser!(PathBuf))
                .help("use an alternate file to /etc/adjtime"),
        )
        .arg(flag("test", "dry run; implies --verbose"))
        .arg(flag("verbose", "display more details").short('v'))
        .arg(
            Arg::new("debug")
                .short('D')
                .long("debug")
                .action(ArgAction::SetTrue)
                .hide(true),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("display this help"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::SetTrue)
                .help("display version"),
        )
        .arg(
            Arg::new("extra")
                .action(ArgAction::Append)
                .num_args(0..)
                .hide(true),
        )
}

/// The version line, in util-linux's shape.
fn version_line() -> String {
    format!("hwclock from ntpbox {}", env!("CARGO_PKG_VERSION"))
}

/// Turns clap's matches into checked options, or the one-line complaint
/// util-linux gives (without the "hwclock: " prefix).
fn options(m: &ArgMatches, now: i64) -> Result<Options, String> {
    let on = |id: &str| m.get_flag(id);
    let given: Vec<&(&str, &str, Function)> =
        FUNCTIONS.iter().filter(|(id, _, _)| on(id)).collect();
    if given.len() > 1 {
        let all: Vec<&str> = FUNCTIONS.iter().map(|(_, opt, _)| *opt).collect();
        return Err(format!("mutually exclusive arguments: {}", all.join(" ")));
    }
    let exclusive = |a: &str, b: &str| {
        if on(a) && on(b) {
            Err(format!("mutually exclusive arguments: --{a} --{b}"))
        } else {
            Ok(())
        }
    };
    exclusive("localtime", "utc")?;
    if on("noadjfile") && m.contains_id("adjfile") {
        return Err("mutually exclusive arguments: --adjfile --noadjfile".into());
    }
    exclusive("noadjfile", "update-drift")?;

    let function = given.first().map_or(Function::Show, |(_, _, f)| *f);
    if on("update-drift") && !matches!(function, Function::Set | Function::SysToHc) {
        return Err("--update-drift requires --set or --systohc".into());
    }
    if on("noadjfile") && !on("utc") && !on("localtime") {
        return Err("With --noadjfile, you must specify either --utc or --localtime".into());
    }
    let delay = match m.get_one::<String>("delay") {
        None => None,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(d) if (0.0..=MAX_DELAY).contains(&d) => Some(d),
            _ => {
                return Err(format!(
                    "invalid --delay argument: '{text}' (seconds, 0 to {MAX_DELAY})"
                ))
            }
        },
    };
    // like util-linux, --date matters (and is checked) only where it is used
    let wants_date = matches!(function, Function::Set | Function::Predict);
    let date = match m.get_one::<String>("date") {
        None if wants_date => return Err("--date is required for --set or --predict".into()),
        None => None,
        Some(_) if !wants_date => None,
        Some(text) => match date::parse(text, now, &zone::SystemZone::from_env()) {
            Some(t) => Some((text.clone(), t)),
            None => return Err(format!("invalid date '{text}'")),
        },
    };
    Ok(Options {
        function,
        utc: on("utc"),
        localtime: on("localtime"),
        rtc: m.get_one::<PathBuf>("rtc").cloned(),
        date,
        delay,
        update_drift: on("update-drift"),
        adjfile: if on("noadjfile") {
            None
        } else {
            Some(
                m.get_one::<PathBuf>("adjfile")
                    .cloned()
                    .unwrap_or_else(|| PathBuf::from(adjtime::DEFAULT_PATH)),
            )
        },
        test: on("test"),
        verbose: on("verbose") || on("test"),
        directisa: on("directisa"),
    })
}

pub fn run(args: Vec<OsString>) -> i32 {
    // the moment of invocation: what --show reports and --set refers to
    let startup = ops::now_micros();
    let m = match crate::applets::parse_args(command(), args, FAILURE) {
        Ok(m) => m,
        Err(status) => return status,
    };
    if m.get_flag("version") {
        println!("{}", version_line());
        return 0;
    }
    if let Some(extra) = m.get_many::<String>("extra") {
        eprintln!("hwclock: {} too many arguments given", extra.count());
        eprintln!("Try 'hwclock --help' for more information.");
        return FAILURE;
    }
    if m.get_flag("debug") {
        eprintln!("hwclock: use --verbose, --debug has been deprecated.");
    }
    let opts = match options(&m, startup.div_euclid(date::MICROS_PER_SEC)) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("hwclock: {msg}");
            return FAILURE;
        }
    };
    if opts.verbose {
        println!("{}", version_line());
        println!("System Time: {}", ops::seconds_dot_micros(startup));
    }
    ops::run(&opts, startup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let mut argv = vec!["hwclock"];
        argv.extend_from_slice(args);
        let m = command()
            .try_get_matches_from(argv)
            .map_err(|e| e.to_string())?;
        options(&m, 1_795_262_400)
    }

    #[test]
    fn show_is_the_default_function() {
        assert_eq!(parse(&[]).unwrap().function, Function::Show);
        assert_eq!(parse(&["-u"]).unwrap().function, Function::Show);
        assert_eq!(parse(&["-w"]).unwrap().function, Function::SysToHc);
        assert_eq!(parse(&["-r", "-r"]).unwrap().function, Function::Show);
    }

    #[test]
    fn two_functions_are_refused_in_util_linux_words() {
        assert_eq!(
            parse(&["-r", "-w"]).unwrap_err(),
            "mutually exclusive arguments: --adjust --show --hctosys --systohc --get --predict --set --systz"
        );
        assert_eq!(
            parse(&["-u", "-l"]).unwrap_err(),
            "mutually exclusive arguments: --localtime --utc"
        );
        assert_eq!(
            parse(&["--noadjfile", "--adjfile", "/x", "-u"]).unwrap_err(),
            "mutually exclusive arguments: --adjfile --noadjfile"
        );
    }

    #[test]
    fn option_requirements() {
        assert_eq!(
            parse(&["--set"]).unwrap_err(),
            "--date is required for --set or --predict"
        );
        assert_eq!(
            parse(&["--set", "--date", "garbage"]).unwrap_err(),
            "invalid date 'garbage'"
        );
        assert_eq!(
            parse(&["-r", "--noadjfile"]).unwrap_err(),
            "With --noadjfile, you must specify either --utc or --localtime"
        );
        assert_eq!(
            parse(&["-r", "--update-drift"]).unwrap_err(),
            "--update-drift requires --set or --systohc"
        );
        assert_eq!(
            parse(&["-w", "--delay", "x"]).unwrap_err(),
            "invalid --delay argument: 'x' (seconds, 0 to 5)"
        );
        assert_eq!(parse(&["-w", "--delay", "0.25"]).unwrap().delay, Some(0.25));
    }

    #[test]
    fn date_is_ignored_where_it_is_not_used() {
        assert_eq!(parse(&["-r", "--date", "garbage"]).unwrap().date, None);
    }

    #[test]
    fn dates_may_start_with_a_minus() {
        let o = parse(&["--predict", "--date", "-1days"]).unwrap();
        assert_eq!(o.date.unwrap().1, (1_795_262_400 - 86_400) * 1_000_000);
    }

    #[test]
    fn test_implies_verbose_and_noadjfile_drops_the_file() {
        let o = parse(&["-w", "--test", "--noadjfile", "-u"]).unwrap();
        assert!(o.verbose && o.test);
        assert_eq!(o.adjfile, None);
        let o = parse(&["--adjfile", "/tmp/a"]).unwrap();
        assert_eq!(o.adjfile, Some(PathBuf::from("/tmp/a")));
    }
}
