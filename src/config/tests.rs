//! Whole-file parsing: includes, diagnostics, the seeds' quirks.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Loaded {
    parse_str(text, Path::new("/etc/ntp.conf"))
}

fn messages(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .items
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_typical_server_config() {
    let l = parse(
        "driftfile /var/lib/ntp/drift\n\
         restrict 192.168.0.0 mask 255.255.255.0 nomodify notrap\n\
         server ntp.ntsc.ac.cn prefer\n\
         server 127.127.1.0\n\
         fudge 127.127.1.0 stratum 10\n",
    );
    assert_eq!(messages(&l), Vec::<String>::new());
    let c = &l.config;
    assert_eq!(
        c.driftfile.as_ref().unwrap().path,
        Path::new("/var/lib/ntp/drift")
    );
    assert_eq!(c.associations.len(), 2);
    assert_eq!(c.associations[1].origin.line, 4);
    let local = c.local_clock().unwrap();
    let Target::Refclock(clock) = local.target else {
        panic!()
    };
    assert_eq!(c.fudge(clock).unwrap().stratum, Some(10));
    assert_eq!(c.network_sources().count(), 1);
}

#[test]
fn errors_carry_file_and_line_and_parsing_goes_on() {
    let l = parse("server\nrestrict 10.0.0.0 mask 255.0.0.0 nomodfiy\nserevr a.b\ndriftfile /x\n");
    assert_eq!(
        messages(&l),
        [
            "/etc/ntp.conf:1: server: missing address",
            "/etc/ntp.conf:2: restrict: unknown flag \"nomodfiy\"",
            "/etc/ntp.conf:3: unknown directive \"serevr\"",
        ]
    );
    assert!(l.diagnostics.has_errors());
    assert!(l.config.driftfile.is_some());
}

#[test]
fn unimplemented_directives_warn_once_and_are_ignored() {
    let l = parse("crypto pw secret\nbroadcast 192.168.1.255 autokey\nserver 127.127.20.0\n");
    let m = messages(&l);
    assert_eq!(m.len(), 4, "{m:?}");
    assert_eq!(
        m[0],
        "/etc/ntp.conf:1: warning: crypto: Autokey public-key authentication is not implemented by ntpbox; line ignored"
    );
    assert!(m[1].starts_with("/etc/ntp.conf:2: warning: broadcast autokey"));
    assert!(m[2].starts_with("/etc/ntp.conf:2: warning: broadcast: broadcast server mode"));
    assert!(m[3].contains("reference clock driver 20"));
    assert!(!l.diagnostics.has_errors());
    assert!(l.config.associations.is_empty());
}

#[test]
fn missing_include_and_keys_files_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ntp.conf");
    std::fs::write(
        &conf,
        "includefile /nonexistent/crypto/pw\nkeys /nonexistent/keys\n",
    )
    .unwrap();
    let l = load_file(&conf);
    let c = conf.display();
    assert_eq!(
        messages(&l),
        [
            format!("{c}:1: warning: includefile /nonexistent/crypto/pw: No such file or directory; ignored"),
            format!("{c}:2: warning: keys /nonexistent/keys: No such file or directory; running without keys"),
        ]
    );
    assert!(!l.diagnostics.has_errors());
}

#[test]
fn includes_nest_with_their_own_file_names_and_stop_at_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.conf"),
        "includefile extra.conf\nserver a.example\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("extra.conf"), "\n\nport 11123\nbogus\n").unwrap();
    std::fs::write(dir.path().join("loop.conf"), "includefile loop.conf\n").unwrap();
    let l = load_file(&dir.path().join("main.conf"));
    assert_eq!(l.config.port, Some(11123));
    assert_eq!(l.config.associations.len(), 1);
    assert_eq!(
        messages(&l),
        [format!(
            "{}:4: unknown directive \"bogus\"",
            dir.path().join("extra.conf").display()
        )]
    );
    let l = load_file(&dir.path().join("loop.conf"));
    assert!(l.diagnostics.has_errors());
    assert!(messages(&l)[0].contains("nested more than 5 deep"));
}

#[test]
fn a_missing_main_file_is_an_error() {
    let l = load_file(Path::new("/nonexistent/ntp.conf"));
    assert_eq!(
        messages(&l),
        ["/nonexistent/ntp.conf: cannot read the configuration: No such file or directory"]
    );
}

#[test]
fn double_slash_annotations_are_reported_and_cut() {
    let l = parse("server ntp.aliyun.com prefer                   // prefer该服务器优先\n");
    assert_eq!(
        messages(&l),
        ["/etc/ntp.conf:1: warning: \"//\" does not start a comment in ntp.conf (use \"#\"); the rest of the line is ignored"]
    );
    assert!(l.config.associations[0].options.prefer);
}

#[test]
fn trailing_prose_after_a_directive_is_reported_and_ignored() {
    let l = parse(
        "server 127.127.1.0\n\
         fudge 127.127.1.0 stratum 0  stratum  这行是时间服务器的层次。设为0则为顶级\n\
         driftfile /var/lib/ntp/ntp.drift  非常的简单. 接下来我们就启动NTP Server\n",
    );
    assert_eq!(
        messages(&l),
        [
            "/etc/ntp.conf:2: warning: ignoring text that is not ntp.conf syntax: \"stratum 这行是时间服务器的层次。设为0则为顶级\"",
            "/etc/ntp.conf:3: warning: ignoring text that is not ntp.conf syntax: \"非常的简单. 接下来我们就启动NTP Server\"",
        ]
    );
    assert_eq!(l.config.fudges[0].fudge.stratum, Some(0));
    assert_eq!(
        l.config.driftfile.as_ref().unwrap().path,
        Path::new("/var/lib/ntp/ntp.drift")
    );
    // ASCII junk is still an error: only pasted prose gets this leniency.
    assert!(parse("driftfile /a /b\n").diagnostics.has_errors());
    // A non-ASCII path that parses is taken as written.
    let l = parse("driftfile /var/lib/漂移\n");
    assert!(l.diagnostics.items.is_empty());
}

#[test]
fn fudge_for_an_unconfigured_clock_is_a_warning() {
    let l = parse(
        "fudge 127.127.1.0 stratum 10\nserver 192.168.2.193\nfudge 192.168.2.193 stratum 10\n",
    );
    let m = messages(&l);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m[0].starts_with("/etc/ntp.conf:3: warning: fudge 192.168.2.193: not a reference clock")
    );
    assert!(m[1].starts_with(
        "/etc/ntp.conf:1: warning: fudge 127.127.1.0: no \"server 127.127.1.0\" line"
    ));
}

#[test]
fn extensions_port_and_host_port() {
    let l = parse("port 11123\nserver 127.0.0.1:10123\nserver [::1]:10124 iburst\n");
    assert!(l.diagnostics.items.is_empty());
    assert_eq!(l.config.port, Some(11123));
    let ports: Vec<_> = l
        .config
        .associations
        .iter()
        .map(|a| match a.target {
            Target::Network { port, .. } => port,
            _ => None,
        })
        .collect();
    assert_eq!(ports, [Some(10123), Some(10124)]);
    assert!(parse("port 0\n").diagnostics.has_errors());
    assert!(parse("port 123 456\n").diagnostics.has_errors());
}

#[test]
fn the_rest_of_the_classic_grammar() {
    let l = parse(
        "pool 0.pool.ntp.org iburst\npeer 10.0.0.2 key 1\n\
         keysdir /etc/ntp\ntrustedkey 4 8 42\nrequestkey 8\ncontrolkey 8\n\
         statistics clockstats cryptostats loopstats peerstats\nstatsdir /var/log/ntpstats/\n\
         filegen loopstats file loopstats type day enable\n\
         logfile /var/log/ntp.log\nlogconfig =syncall +clockall\n\
         tinker panic 0 step 0.128\ntos orphan 10 minclock 3 minsane 1\n\
         enable stats\ndisable ntp monitor\ninterface ignore wildcard\ninterface listen lo\n\
         broadcastclient\nmulticastclient 224.0.1.1\nmanycastserver 239.255.254.254\n\
         manycastclient 239.255.254.254 key 42\nleapfile /usr/share/zoneinfo/leap-seconds.list\n\
         discard average 4 minimum 1\nmru maxdepth 1000\npidfile /run/ntpd.pid\n",
    );
    let errors: Vec<String> = l.diagnostics.errors().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let c = &l.config;
    assert_eq!(c.associations.len(), 2);
    assert_eq!(c.trusted_keys, [4, 8, 42]);
    assert_eq!((c.request_key, c.control_key), (Some(8), Some(8)));
    assert_eq!(c.statistics.len(), 4);
    assert_eq!(c.tos.orphan, Some(10));
    assert!(!c.flags.ntp && !c.flags.monitor && c.flags.stats);
    assert_eq!(c.interfaces.len(), 2);
    assert!(c.broadcast_client);
    assert_eq!(c.discard.average, 4);
    assert_eq!(c.mru.maxdepth, Some(1000));
    assert_eq!(c.pidfile.as_deref(), Some(Path::new("/run/ntpd.pid")));
    // broadcastclient is no longer among the unimplemented.
    assert_eq!(l.diagnostics.warnings().count(), 4);
}

#[test]
fn tinker_freq_may_be_negative() {
    let l = parse_str("tinker freq -12.5 step 0.2\n", Path::new("t.conf"));
    let errors: Vec<String> = l.diagnostics.errors().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(l.config.tinker.freq, Some(-12.5));
}
