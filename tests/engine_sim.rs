//! The engine's accuracy in simulation (`ntpbox::engine::sim`): the
//! scenarios of issue 6, each asserted with margins and printing its
//! figures (`cargo test --test engine_sim -- --nocapture`).
//!
//! Every run is deterministic per seed. The assertions use seed 1; the
//! `*_over_seeds` tests check that the margins hold for other seeds too.

use ntpbox::engine::sim::{run, Run, Scenario, SimServer};
use ntpbox::proto::status::select;

/// The window the steady state is judged over, true seconds.
const STEADY: (f64, f64) = (10_000.0, 20_000.0);
const SEED: u64 = 1;

fn figures(name: &str, r: &Run) {
    // Short runs are judged over their second half.
    let end = r.offsets.last().map_or(0.0, |o| o.0);
    let (from, to) = if end >= STEADY.1 {
        STEADY
    } else {
        (end / 2.0, end)
    };
    println!(
        "{name}: |offset| < 1 ms from {} s; RMS {:.1} us, max {:.1} us over {from:.0}-{to:.0} s; frequency error {:+.4} ppm; steps {:?}",
        r.settled_after(1e-3).map_or("never".to_string(), |t| format!("{t:.0}")),
        r.rms(from, to) * 1e6,
        r.max_abs(from, to) * 1e6,
        r.freq_error_ppm,
        r.steps,
    );
}

fn servers(n: usize) -> (String, Vec<SimServer>) {
    let mut conf = String::new();
    let mut list = Vec::new();
    for k in 1..=n {
        conf.push_str(&format!("server 192.0.2.{k} iburst minpoll 6 maxpoll 6\n"));
        list.push(SimServer::perfect(&format!("192.0.2.{k}:123")));
    }
    (conf, list)
}

fn check_standard(seed: u64) -> Run {
    let r = run(&Scenario::standard(seed));
    figures(&format!("standard, seed {seed}"), &r);
    println!("  early RMS 10-1000 s: {:.1} us", r.rms(10.0, 1000.0) * 1e6);
    assert_eq!(r.exit, None);
    assert!(r.steps.is_empty(), "0.1 s is slewed: {:?}", r.steps);
    let settled = r.settled_after(1e-3).expect("converges");
    assert!(settled <= 60.0, "converged after {settled} s");
    assert!(r.rms(STEADY.0, STEADY.1) <= 20e-6);
    assert!(r.max_abs(STEADY.0, STEADY.1) <= 60e-6);
    assert!(r.freq_error_ppm.abs() < 0.2, "{}", r.freq_error_ppm);
    r
}

#[test]
fn standard_scenario() {
    let r = check_standard(SEED);
    // the offset went in one fast slew, never beyond 1/12
    assert!(r.max_rate_ppm <= 83_333.0, "{}", r.max_rate_ppm);
    assert!(r.logged("synchronized to 192.0.2.1, stratum 2").is_some());
}

#[test]
fn standard_scenario_over_seeds() {
    for seed in 2..=8 {
        check_standard(seed);
    }
}

#[test]
fn a_falseticker_among_four_is_rejected() {
    let (conf3, three) = servers(3);
    let mut s3 = Scenario::standard(SEED);
    s3.config = conf3;
    s3.servers = three;
    let r3 = run(&s3);
    figures("3 servers", &r3);

    let (conf4, mut four) = servers(4);
    four[3].error = 1.0;
    let mut s4 = Scenario::standard(SEED);
    s4.config = conf4;
    s4.servers = four;
    let r4 = run(&s4);
    figures("4 servers, one 1 s off", &r4);

    let peers = r4.engine.peers();
    let bad = peers
        .iter()
        .find(|p| p.srcadr.to_string() == "192.0.2.4:123")
        .unwrap();
    assert_eq!(bad.status.select, select::FALSETICK);
    assert_eq!(bad.status.tally(), 'x');
    assert!(r4.steps.is_empty(), "{:?}", r4.steps);
    let (rms3, rms4) = (r3.rms(STEADY.0, STEADY.1), r4.rms(STEADY.0, STEADY.1));
    // Each run draws its own network noise: "as with 3" within noise.
    assert!(rms4 <= 20e-6 && rms4 <= rms3 * 1.5 + 2e-6, "{rms3} {rms4}");
    assert!(r4.max_abs(STEADY.0, STEADY.1) <= 60e-6);
}

fn spiky(seed: u64) -> Run {
    let mut s = Scenario::standard(seed);
    s.network.spike_fraction = 0.05;
    s.network.spike_max = 0.020;
    let r = run(&s);
    figures(&format!("5% delayed up to 20 ms, seed {seed}"), &r);
    r
}

#[test]
fn delayed_packets_barely_matter() {
    for seed in [SEED, 2, 3, 4] {
        let r = spiky(seed);
        assert!(r.rms(STEADY.0, STEADY.1) <= 40e-6);
    }
}

fn outage(seed: u64) -> f64 {
    let mut s = Scenario::standard(seed);
    s.outages = vec![(10_000.0, 13_600.0)];
    let r = run(&s);
    let holdover = r.max_abs(10_000.0, 13_600.0);
    println!(
        "1 h outage, seed {seed}: holdover error {:.1} us; RMS after {:.1} us",
        holdover * 1e6,
        r.rms(15_000.0, 20_000.0) * 1e6
    );
    assert!(r.rms(15_000.0, 20_000.0) <= 20e-6);
    holdover
}

#[test]
fn an_hour_without_servers() {
    assert!(outage(SEED) <= 200e-6);
}

/// The holdover error is the frequency error of the moment plus an hour
/// of random walk (1e-9/s gives 125 us of phase at one sigma): most seeds
/// stay within 200 us, not all can.
#[test]
fn an_hour_without_servers_over_seeds() {
    let within = (2..=9).filter(|&seed| outage(seed) <= 200e-6).count();
    assert!(within >= 6, "{within} of 8");
}

#[test]
fn a_half_second_off_is_stepped() {
    let mut s = Scenario::standard(SEED);
    s.clock.initial_offset = 0.5;
    s.duration = 2_000.0;
    let r = run(&s);
    figures("0.5 s ahead", &r);
    assert_eq!(r.steps.len(), 1);
    assert!((r.steps[0] + 0.5).abs() < 0.01, "{:?}", r.steps);
    assert!(r.logged("time reset -0.5").is_some());
    assert!(r.settled_after(1e-3).unwrap() <= 60.0);
}

#[test]
fn a_half_second_off_is_slewed_at_500_ppm_with_x() {
    let mut s = Scenario::standard(SEED);
    s.clock.initial_offset = 0.5;
    s.clock.frequency_error_ppm = 0.0;
    s.start.slew_only = true;
    s.duration = 3_000.0;
    let r = run(&s);
    figures("0.5 s ahead, -x", &r);
    assert!(r.steps.is_empty());
    assert!(r.max_extra_ppm <= 500.0 + 1e-6, "{}", r.max_extra_ppm);
    // 0.5 s at 500 ppm takes 1000 s
    let settled = r.settled_after(1e-3).unwrap();
    assert!((1_000.0..1_200.0).contains(&settled), "{settled}");
}

#[test]
fn fifty_seconds_off_is_stepped() {
    let mut s = Scenario::standard(SEED);
    s.clock.initial_offset = -50.0;
    s.duration = 2_000.0;
    let r = run(&s);
    figures("50 s behind", &r);
    assert_eq!(r.steps.len(), 1);
    assert!((r.steps[0] - 50.0).abs() < 0.01);
    assert!(r.settled_after(1e-3).unwrap() <= 60.0);
}

#[test]
fn two_thousand_seconds_off_panics_unless_g() {
    let mut s = Scenario::standard(SEED);
    s.clock.initial_offset = 2_000.0;
    s.duration = 2_000.0;
    let r = run(&s);
    assert_eq!(r.exit.map(|e| e.1), Some(1));
    assert!(r.steps.is_empty());
    let line = r.logged("exceeds sanity limit").unwrap();
    assert_eq!(
        line,
        "time correction of 2000 seconds exceeds sanity limit (1000); set clock manually to the correct UTC time."
    );
    println!(
        "2000 s ahead: exit 1 after {:.1} s: {line}",
        r.exit.unwrap().0
    );

    s.start.panic_gate = true;
    let r = run(&s);
    figures("2000 s ahead, -g", &r);
    assert_eq!(r.exit, None);
    assert_eq!(r.steps.len(), 1);
    assert!((r.steps[0] + 2_000.0).abs() < 0.01);
    assert!(r.settled_after(1e-3).unwrap() <= 60.0);
}

#[test]
fn a_correct_drift_file_converges_faster() {
    let without = run(&Scenario::standard(SEED));
    let mut s = Scenario::standard(SEED);
    s.start.drift_ppm = Some(-100.0);
    let with = run(&s);
    let early = |r: &Run| r.rms(10.0, 1_000.0);
    let fine = |r: &Run| r.settled_after(100e-6).unwrap_or(f64::INFINITY);
    println!(
        "drift file: RMS over 10-1000 s {:.1} us (without: {:.1} us); |offset| < 100 us from {:.0} s (without: {:.0} s)",
        early(&with) * 1e6,
        early(&without) * 1e6,
        fine(&with),
        fine(&without),
    );
    assert!(early(&with) < early(&without) * 0.8);
}
