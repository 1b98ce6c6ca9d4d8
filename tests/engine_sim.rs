//! Accuracy of the engine in simulation (see `engine::sim`).

use ntpbox::engine::sim::{run, Scenario};

#[test]
fn standard_scenario() {
    for seed in 1..=8 {
        let mut s = Scenario::standard(seed);
        let r = run(&s);
        println!(
            "seed {seed}: settled<1ms after {:?} s, rms {:.1} us, max {:.1} us, freq err {:.4} ppm, steps {:?}, sent {}",
            r.settled_after(1e-3),
            r.rms(10_000.0, 20_000.0) * 1e6,
            r.max_abs(10_000.0, 20_000.0) * 1e6,
            r.freq_error_ppm,
            r.steps,
            r.sent
        );
        for (t, o) in r.offsets.iter().step_by(5).take(0) {
            print!("{t:.0}:{:.1} ", o * 1e6);
        }
        println!();
        for (t, _, l) in r.logs.iter().take(0) {
            println!("  {t:.1} {l}");
        }
    }
}
