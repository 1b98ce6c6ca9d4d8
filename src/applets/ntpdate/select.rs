//! Choosing the time to set: classic ntpdate's clock filter (per server,
//! the lowest-delay sample and a dispersion from the spread of the rest) and
//! its selection (sanity checks, the best five of the two lowest strata,
//! then falsetickers dropped until the survivors agree).

use std::fmt;

use super::sampling::{Sample, Server};
use crate::proto::NtpTimestamp;

/// PEER_MAXDISP: the dispersion a missing sample counts as, seconds.
const MAX_DISPERSION: f64 = 64.0;
/// NTP_INFIN: the highest usable stratum.
const MAX_STRATUM: u8 = 15;
/// NTP_MAXWGT: a server further than this (round trip) is too far away.
const MAX_DELAY: f64 = 8.0;
/// NTP_MAXAGE: a server whose reference time is this old has not been
/// synchronised for too long (one day).
const MAX_REFERENCE_AGE: f64 = 86_400.0;
/// NTP_MAXLIST: how many candidates the selection keeps.
const MAX_CANDIDATES: usize = 5;
/// Classic's fixed part of the agreement threshold: its own precision
/// (2^-6 s) plus NTP_MAXSKW (0.01 s).
const AGREEMENT_BASE: f64 = 0.015_625 + 0.01;
/// NTP_SELECT: the weight of each further-down candidate's disagreement.
const SELECT_WEIGHT: f64 = 0.75;

/// A server's filtered result: its best sample and how much the others
/// disagree with it.
#[derive(Clone, Copy, Debug)]
pub struct Filtered {
    pub best: Sample,
    pub dispersion: f64,
}

/// The clock filter over the samples a server gave out of `requested`.
pub fn filter(server: &Server, requested: u8) -> Option<Filtered> {
    let mut by_delay: Vec<&Sample> = server.samples.iter().collect();
    by_delay.sort_by(|a, b| a.delay.total_cmp(&b.delay));
    let best = **by_delay.first()?;
    let slots = (requested as usize).max(by_delay.len());
    // Each later slot adds its disagreement with the best, halved per slot;
    // requests that gave no sample count as the maximum.
    let dispersion = (1..slots)
        .map(|i| {
            let d = by_delay.get(i).map_or(MAX_DISPERSION, |s| {
                (s.offset - best.offset).abs().min(MAX_DISPERSION)
            });
            d / 2f64.powi(i as i32)
        })
        .sum();
    Some(Filtered { best, dispersion })
}

/// Why a server with samples was passed over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dropped {
    StrataTooHigh(u8),
    TooFarAway(f64),
    NotInSync,
    VeryBroken,
    TooLongWithoutSync(f64),
    /// Lost to better candidates: worse stratum or dispersion.
    NotAmongTheBest,
    /// Disagreed with the other candidates.
    Falseticker,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dropped::StrataTooHigh(s) => write!(f, "strata too high (stratum {s})"),
            Dropped::TooFarAway(d) => write!(f, "server too far away (delay {d:.5} s)"),
            Dropped::NotInSync => f.write_str("leap not in sync"),
            Dropped::VeryBroken => f.write_str("server is very broken"),
            Dropped::TooLongWithoutSync(age) => write!(
                f,
                "server has gone too long without sync (reference time {:.0} h old)",
                age / 3600.0
            ),
            Dropped::NotAmongTheBest => f.write_str("not among the best candidates"),
            Dropped::Falseticker => f.write_str("disagrees with the other servers (falseticker)"),
        }
    }
}

/// The outcome of the selection.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Index of the chosen server.
    pub chosen: Option<usize>,
    /// Servers with data that were passed over, and why.
    pub dropped: Vec<(usize, Dropped)>,
}

/// Classic ntpdate's clock_select over the filtered servers (None: no data).
pub fn select(filtered: &[Option<Filtered>]) -> Selection {
    let mut sel = Selection::default();
    // Sanity checks, then the best MAX_CANDIDATES by stratum, then by
    // dispersion.
    let mut list: Vec<(usize, Filtered)> = Vec::new();
    for (i, f) in filtered.iter().enumerate() {
        let Some(f) = f else { continue };
        match sanity(f) {
            Err(why) => sel.dropped.push((i, why)),
            Ok(()) => list.push((i, *f)),
        }
    }
    list.sort_by(|(_, a), (_, b)| {
        a.best
            .reply
            .stratum
            .cmp(&b.best.reply.stratum)
            .then(a.dispersion.total_cmp(&b.dispersion))
    });
    for (i, _) in list.iter().skip(MAX_CANDIDATES) {
        sel.dropped.push((*i, Dropped::NotAmongTheBest));
    }
    list.truncate(MAX_CANDIDATES);
    // Keep at most two strata.
    let mut strata_seen = 1;
    if let Some(cut) = (1..list.len()).find(|&k| {
        if list[k].1.best.reply.stratum > list[k - 1].1.best.reply.stratum {
            strata_seen += 1;
        }
        strata_seen > 2
    }) {
        for (i, _) in list.drain(cut..) {
            sel.dropped.push((i, Dropped::NotAmongTheBest));
        }
    }
    // Within a stratum, lowest delay first.
    list.sort_by(|(_, a), (_, b)| {
        a.best
            .reply
            .stratum
            .cmp(&b.best.reply.stratum)
            .then(a.best.delay.total_cmp(&b.best.delay))
    });
    // Drop the candidate that disagrees most with the others until the
    // worst disagreement is within the precision of the survivors.
    while list.len() > 1 {
        let badness: Vec<f64> = (0..list.len())
            .map(|k| {
                (0..list.len())
                    .filter(|&j| j != k)
                    .map(|j| {
                        let d = (list[j].1.best.offset - list[k].1.best.offset).abs();
                        d * SELECT_WEIGHT.powi(j as i32)
                    })
                    .sum()
            })
            .collect();
        // The last of equally bad candidates goes first, as in classic.
        let worst = (0..list.len())
            .max_by(|&a, &b| badness[a].total_cmp(&badness[b]))
            .unwrap_or(0);
        let finest_precision = list
            .iter()
            .map(|(_, f)| f.best.reply.precision)
            .min()
            .unwrap_or(0);
        let threshold = AGREEMENT_BASE + 2f64.powi(finest_precision.min(0) as i32);
        if badness[worst] < threshold {
            break;
        }
        let (i, _) = list.remove(worst);
        sel.dropped.push((i, Dropped::Falseticker));
    }
    sel.chosen = list.first().map(|(i, _)| *i);
    sel
}

fn sanity(f: &Filtered) -> Result<(), Dropped> {
    let reply = &f.best.reply;
    if reply.stratum > MAX_STRATUM {
        return Err(Dropped::StrataTooHigh(reply.stratum));
    }
    if f.best.delay > MAX_DELAY {
        return Err(Dropped::TooFarAway(f.best.delay));
    }
    if reply.leap == crate::proto::Leap::Unsynchronized {
        return Err(Dropped::NotInSync);
    }
    // A zero reference time is "unknown" (ntpsec in orphan mode never sets
    // it): nothing to check. Classic ntpdate would drop such a server as too
    // long without sync; ntpsec's own ntpdig takes it, and so do we.
    if reply.reference_ts == NtpTimestamp::ZERO {
        return Ok(());
    }
    let age = reply.transmit_ts.diff_secs(reply.reference_ts);
    if age < 0.0 {
        return Err(Dropped::VeryBroken);
    }
    if age >= MAX_REFERENCE_AGE {
        return Err(Dropped::TooLongWithoutSync(age));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onwire::Exchange;
    use crate::proto::{Header, Mode};

    fn sample(offset: f64, delay: f64, stratum: u8) -> Sample {
        let t = NtpTimestamp::from_parts(3_972_758_400, 0);
        Sample {
            exchange: Exchange {
                t1: t,
                t2: t,
                t3: t,
                t4: t,
            },
            offset,
            delay,
            root_distance: 0.01,
            reply: Header {
                mode: Mode::Server,
                stratum,
                precision: -20,
                reference_ts: t.add_secs_f64(-60.0),
                transmit_ts: t,
                ..Header::default()
            },
        }
    }

    fn server(samples: &[Sample]) -> Server {
        let mut s = Server::new("127.0.0.1:123".parse().unwrap());
        s.samples = samples.to_vec();
        s
    }

    #[test]
    fn the_filter_keeps_the_lowest_delay_sample() {
        let s = server(&[
            sample(0.010, 0.030, 2),
            sample(0.002, 0.001, 2),
            sample(0.004, 0.002, 2),
            sample(0.006, 0.004, 2),
        ]);
        let f = filter(&s, 4).unwrap();
        assert_eq!(f.best.offset, 0.002);
        // 0.002/2 + 0.004/4 + 0.008/8
        assert!((f.dispersion - 0.003).abs() < 1e-12, "{}", f.dispersion);
    }

    #[test]
    fn missing_samples_count_as_maximum_dispersion() {
        let s = server(&[sample(0.0, 0.001, 2)]);
        let f = filter(&s, 4).unwrap();
        assert_eq!(f.dispersion, 32.0 + 16.0 + 8.0);
        assert!(filter(&server(&[]), 4).is_none());
    }

    fn filtered(offset: f64, delay: f64, stratum: u8) -> Option<Filtered> {
        Some(Filtered {
            best: sample(offset, delay, stratum),
            dispersion: 0.0,
        })
    }

    #[test]
    fn a_falseticker_is_voted_out() {
        let sel = select(&[
            filtered(0.350, 0.001, 2),
            filtered(0.001, 0.002, 2),
            filtered(0.002, 0.003, 2),
        ]);
        assert_eq!(sel.chosen, Some(1));
        assert_eq!(sel.dropped, vec![(0, Dropped::Falseticker)]);
    }

    #[test]
    fn lower_stratum_wins_and_the_insane_are_dropped() {
        let mut stale = filtered(0.0, 0.001, 1).unwrap();
        stale.best.reply.reference_ts = stale.best.reply.transmit_ts.add_secs_f64(-90_000.0);
        let sel = select(&[
            filtered(0.001, 0.001, 3),
            Some(stale),
            filtered(0.002, 0.005, 2),
            None,
        ]);
        assert_eq!(sel.chosen, Some(2));
        assert!(matches!(
            sel.dropped[0],
            (1, Dropped::TooLongWithoutSync(_))
        ));
    }
}
