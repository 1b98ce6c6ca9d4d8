//! The table of ntpq's commands, as classic ntpq lists them (`help`), and
//! the handlers of its mode 6 operations.

use super::assoc;
use super::builtins::{
    authenticate, cooked, debug, delay, help, host, hostnames, keyid, keytype, ntpversion, passwd,
    poll, quit, raw, timeout, version,
};
use super::commands::{cmd, ip_version, opt, req, text, uint, Command, Kind, Value};
use super::config;
use super::mru;
use super::ordlist;
use super::peers::{self, Layout};
use super::readvar;
use super::shell::Shell;
use super::stats;

use Kind::{Int, IpVersion, Str, Uint};

pub(super) const COMMANDS: &[Command] = &[
    // ntpq's built-in commands.
    cmd(
        "?",
        &[opt(Str, "command")],
        "tell the use and syntax of commands",
        help,
    ),
    cmd(
        "help",
        &[opt(Str, "command")],
        "tell the use and syntax of commands",
        help,
    ),
    cmd(
        "timeout",
        &[opt(Uint, "msec")],
        "set the primary receive time out",
        timeout,
    ),
    cmd(
        "delay",
        &[opt(Int, "msec")],
        "set the delay added to encryption time stamps",
        delay,
    ),
    cmd(
        "host",
        &[opt(Str, "-4|-6"), opt(Str, "hostname")],
        "specify the host whose NTP server we talk to",
        host,
    ),
    cmd(
        "poll",
        &[opt(Uint, "n"), opt(Str, "verbose")],
        "poll an NTP server in client mode `n' times",
        poll,
    ),
    cmd(
        "passwd",
        &[opt(Str, "")],
        "specify a password to use for authenticated requests",
        passwd,
    ),
    cmd(
        "hostnames",
        &[opt(Str, "yes|no")],
        "specify whether hostnames or net numbers are printed",
        hostnames,
    ),
    cmd(
        "debug",
        &[opt(Str, "no|more|less")],
        "set/change debugging level",
        debug,
    ),
    cmd("quit", &[], "exit ntpq", quit),
    cmd("exit", &[], "exit ntpq", quit),
    cmd(
        "keyid",
        &[opt(Uint, "key#")],
        "set keyid to use for authenticated requests",
        keyid,
    ),
    cmd("version", &[], "print version number", version),
    cmd("raw", &[], "do raw mode variable output", raw),
    cmd("cooked", &[], "do cooked mode variable output", cooked),
    cmd(
        "authenticate",
        &[opt(Str, "yes|no")],
        "always authenticate requests to this server",
        authenticate,
    ),
    cmd(
        "ntpversion",
        &[opt(Uint, "version number")],
        "set the NTP version number to use for requests",
        ntpversion,
    ),
    cmd(
        "keytype",
        &[opt(Str, "digest-name")],
        "set key type to use for authenticated requests (md5, sha1, aes128cmac, ...)",
        keytype,
    ),
    // Its mode 6 operations.
    cmd(
        "saveconfig",
        &[req(Str, "filename")],
        "save ntpd configuration to file, . for current config file",
        saveconfig,
    ),
    cmd(
        "associations",
        &[],
        "print list of association ID's and statuses for the server's peers",
        associations,
    ),
    cmd(
        "passociations",
        &[],
        "print list of associations returned by last associations command",
        passociations,
    ),
    cmd(
        "lassociations",
        &[],
        "print list of associations including all client information",
        lassociations,
    ),
    cmd(
        "lpassociations",
        &[],
        "print last obtained list of associations, including client information",
        lpassociations,
    ),
    cmd(
        "addvars",
        &[req(Str, "name[=value][,...]")],
        "add variables to the variable list or change their values",
        addvars,
    ),
    cmd(
        "rmvars",
        &[req(Str, "name[,...]")],
        "remove variables from the variable list",
        rmvars,
    ),
    cmd(
        "clearvars",
        &[],
        "remove all variables from the variable list",
        clearvars,
    ),
    cmd(
        "showvars",
        &[],
        "print variables on the variable list",
        showvars,
    ),
    cmd(
        "readlist",
        &[opt(Uint, "assocID")],
        "read the system or peer variables included in the variable list",
        readlist,
    ),
    cmd(
        "rl",
        &[opt(Uint, "assocID")],
        "read the system or peer variables included in the variable list",
        readlist,
    ),
    cmd(
        "writelist",
        &[opt(Uint, "assocID")],
        "write the system or peer variables included in the variable list",
        writelist,
    ),
    cmd(
        "readvar",
        &[
            opt(Uint, "assocID"),
            opt(Str, "varname1"),
            opt(Str, "varname2"),
            opt(Str, "varname3"),
        ],
        "read system or peer variables",
        readvar,
    ),
    cmd(
        "rv",
        &[
            opt(Uint, "assocID"),
            opt(Str, "varname1"),
            opt(Str, "varname2"),
            opt(Str, "varname3"),
        ],
        "read system or peer variables",
        readvar,
    ),
    cmd(
        "writevar",
        &[req(Uint, "assocID"), req(Str, "name=value,[...]")],
        "write system or peer variables",
        writevar,
    ),
    cmd(
        "mreadlist",
        &[req(Uint, "assocIDlow"), req(Uint, "assocIDhigh")],
        "read the peer variables in the variable list for multiple peers",
        mreadlist,
    ),
    cmd(
        "mrl",
        &[req(Uint, "assocIDlow"), req(Uint, "assocIDhigh")],
        "read the peer variables in the variable list for multiple peers",
        mreadlist,
    ),
    cmd(
        "mreadvar",
        &[
            req(Uint, "assocIDlow"),
            req(Uint, "assocIDhigh"),
            opt(Str, "name=value[,...]"),
        ],
        "read peer variables from multiple peers",
        mreadvar,
    ),
    cmd(
        "mrv",
        &[
            req(Uint, "assocIDlow"),
            req(Uint, "assocIDhigh"),
            opt(Str, "name=value[,...]"),
        ],
        "read peer variables from multiple peers",
        mreadvar,
    ),
    cmd(
        "clocklist",
        &[opt(Uint, "assocID")],
        "read the clock variables included in the variable list",
        clocklist,
    ),
    cmd(
        "cl",
        &[opt(Uint, "assocID")],
        "read the clock variables included in the variable list",
        clocklist,
    ),
    cmd(
        "clockvar",
        &[opt(Uint, "assocID"), opt(Str, "name=value[,...]")],
        "read clock variables",
        clockvar,
    ),
    cmd(
        "cv",
        &[opt(Uint, "assocID"), opt(Str, "name=value[,...]")],
        "read clock variables",
        clockvar,
    ),
    cmd(
        "pstats",
        &[req(Uint, "assocID")],
        "show statistics for a peer",
        pstats,
    ),
    cmd(
        "peers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of the server's peers [IP version]",
        peers_cmd,
    ),
    cmd(
        "apeers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of the server's peers and their assocIDs [IP version]",
        apeers,
    ),
    cmd(
        "lpeers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of all peers and clients [IP version]",
        lpeers,
    ),
    cmd(
        "opeers",
        &[opt(IpVersion, "-4|-6")],
        "print peer list the old way, with dstadr shown rather than refid [IP version]",
        opeers,
    ),
    cmd(
        "lopeers",
        &[opt(IpVersion, "-4|-6")],
        "obtain and print a list of all peers and clients showing dstadr [IP version]",
        lopeers,
    ),
    cmd(
        ":config",
        &[req(Str, "<configuration command line>")],
        "send a remote configuration command to ntpd",
        config_line,
    ),
    cmd(
        "config-from-file",
        &[req(Str, "<configuration filename>")],
        "configure ntpd using the configuration filename",
        config_from_file,
    ),
    cmd(
        "mrulist",
        &[
            opt(Str, "tag=value"),
            opt(Str, "tag=value"),
            opt(Str, "tag=value"),
            opt(Str, "tag=value"),
        ],
        concat!(
            "display the list of most recently seen source addresses,",
            " tags mincount=... resall=0x... resany=0x..."
        ),
        mrulist,
    ),
    cmd(
        "ifstats",
        &[],
        "show statistics for each local address ntpd is using",
        |sh, _| ordlist::ifstats(sh),
    ),
    cmd("reslist", &[], "show ntpd access control list", |sh, _| {
        ordlist::reslist(sh)
    }),
    cmd("sysinfo", &[], "display system summary", |sh, _| {
        stats::sysinfo(sh)
    }),
    cmd(
        "kerninfo",
        &[],
        "display kernel loop and PPS statistics",
        |sh, _| stats::kerninfo(sh),
    ),
    cmd(
        "sysstats",
        &[],
        "display system uptime and packet counts",
        |sh, _| stats::sysstats(sh),
    ),
    cmd(
        "monstats",
        &[],
        "display monitor (mrulist) counters and limits",
        |sh, _| stats::monstats(sh),
    ),
    cmd(
        "authinfo",
        &[],
        "display symmetric authentication counters",
        |sh, _| stats::authinfo(sh),
    ),
    cmd(
        "iostats",
        &[],
        "display network input and output counters",
        |sh, _| stats::iostats(sh),
    ),
    cmd(
        "timerstats",
        &[],
        "display interval timer counters",
        |sh, _| stats::timerstats(sh),
    ),
];

fn associations(sh: &mut Shell, _: &[Value]) {
    assoc::fetch_and_print(sh, false);
}

fn lassociations(sh: &mut Shell, _: &[Value]) {
    assoc::fetch_and_print(sh, true);
}

fn passociations(sh: &mut Shell, _: &[Value]) {
    assoc::print(sh, false);
}

fn lpassociations(sh: &mut Shell, _: &[Value]) {
    assoc::print(sh, true);
}

fn addvars(sh: &mut Shell, args: &[Value]) {
    if let Some(t) = text(args, 0) {
        readvar::add_vars(&mut sh.varlist, t);
    }
}

fn rmvars(sh: &mut Shell, args: &[Value]) {
    if let Some(t) = text(args, 0) {
        readvar::remove_vars(sh, t);
    }
}

fn clearvars(sh: &mut Shell, _: &[Value]) {
    sh.varlist.clear();
}

fn showvars(sh: &mut Shell, _: &[Value]) {
    readvar::show_vars(sh);
}

fn readlist(sh: &mut Shell, args: &[Value]) {
    readvar::readlist(sh, uint(args, 0));
}

fn writelist(sh: &mut Shell, args: &[Value]) {
    readvar::writelist(sh, uint(args, 0));
}

fn readvar(sh: &mut Shell, args: &[Value]) {
    let vars: Vec<String> = (1..args.len())
        .filter_map(|i| text(args, i).map(str::to_string))
        .collect();
    readvar::readvar(sh, uint(args, 0), &vars);
}

fn writevar(sh: &mut Shell, args: &[Value]) {
    if let (Some(id), Some(vars)) = (uint(args, 0), text(args, 1)) {
        readvar::writevar(sh, id, vars);
    }
}

fn config_line(sh: &mut Shell, args: &[Value]) {
    if let Some(line) = text(args, 0) {
        config::config(sh, line);
    }
}

fn config_from_file(sh: &mut Shell, args: &[Value]) {
    if let Some(path) = text(args, 0) {
        config::config_from_file(sh, path);
    }
}

fn saveconfig(sh: &mut Shell, args: &[Value]) {
    if let Some(name) = text(args, 0) {
        config::saveconfig(sh, name);
    }
}

fn mreadlist(sh: &mut Shell, args: &[Value]) {
    if let (Some(a), Some(b)) = (uint(args, 0), uint(args, 1)) {
        readvar::mreadlist(sh, a, b);
    }
}

fn mreadvar(sh: &mut Shell, args: &[Value]) {
    if let (Some(a), Some(b)) = (uint(args, 0), uint(args, 1)) {
        readvar::mreadvar(sh, a, b, text(args, 2));
    }
}

fn clocklist(sh: &mut Shell, args: &[Value]) {
    readvar::clocklist(sh, uint(args, 0));
}

fn clockvar(sh: &mut Shell, args: &[Value]) {
    readvar::clockvar(sh, uint(args, 0), text(args, 1));
}

fn pstats(sh: &mut Shell, args: &[Value]) {
    if let Some(id) = uint(args, 0) {
        stats::pstats(sh, id);
    }
}

fn peers_cmd(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, false, Layout::Peers, ip_version(args));
}

fn apeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, false, Layout::WithIds, ip_version(args));
}

fn lpeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, true, Layout::Peers, ip_version(args));
}

fn opeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, false, Layout::Old, ip_version(args));
}

fn lopeers(sh: &mut Shell, args: &[Value]) {
    peers::peers(sh, true, Layout::Old, ip_version(args));
}

fn mrulist(sh: &mut Shell, args: &[Value]) {
    let words: Vec<String> = (0..args.len())
        .filter_map(|i| text(args, i).map(str::to_string))
        .collect();
    mru::mrulist(sh, &words);
}
