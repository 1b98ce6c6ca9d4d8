//! Selection, clustering and combining (RFC 5905 §11.2): which peers tell
//! the truth, which of those are the best, and the system peer.
//!
//! Each candidate is an interval, its offset plus or minus its root
//! distance. The intersection algorithm finds the largest clique of
//! intervals with a point in common; peers outside it are falsetickers
//! (`x`). The cluster algorithm then drops the outliers (`-`) whose offset
//! is far from the others', down to `minclock`; the rest (`+`) are
//! combined, and one of them is the system peer (`*`).

use crate::proto::status::select;

/// `tos minclock`: clustering stops at this many survivors.
pub const DEFAULT_MINCLOCK: usize = 3;
/// `tos maxclock`: candidates beyond this many are excess (`.`).
pub const DEFAULT_MAXCLOCK: usize = 10;
/// `tos minsane`: fewer truechimers than this and nothing is selected.
pub const DEFAULT_MINSANE: usize = 1;
/// Weight of a stratum in the ranking of survivors, seconds of distance:
/// a lower stratum always ranks first (RFC 5905 MAXDIST-like metric).
const STRATUM_WEIGHT: f64 = 1.5;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// Peer minus us, seconds (from the clock filter).
    pub offset: f64,
    /// Root distance, seconds: the half-width of the peer's interval.
    pub distance: f64,
    /// Peer jitter, seconds.
    pub jitter: f64,
    pub stratum: u8,
    pub prefer: bool,
    /// `true`: always survives the intersection.
    pub truechimer: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub minclock: usize,
    pub maxclock: usize,
    pub minsane: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            minclock: DEFAULT_MINCLOCK,
            maxclock: DEFAULT_MAXCLOCK,
            minsane: DEFAULT_MINSANE,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// The select code of each candidate, in order.
    pub codes: Vec<u8>,
    /// Indices of the candidates that are combined, best first.
    pub survivors: Vec<usize>,
    /// Index of the system peer.
    pub system_peer: Option<usize>,
    /// The combined offset, seconds.
    pub offset: f64,
    /// sys_jitter: the spread of the survivors around the system peer,
    /// with its own jitter, seconds.
    pub jitter: f64,
}

impl Selection {
    fn none(n: usize) -> Selection {
        Selection {
            codes: vec![select::REJECT; n],
            survivors: Vec::new(),
            system_peer: None,
            offset: 0.0,
            jitter: 0.0,
        }
    }
}

/// Runs the three algorithms. `previous` is the index of the last system
/// peer, kept while it survives at the best stratum (no clock hopping).
pub fn select(cands: &[Candidate], previous: Option<usize>, params: Params) -> Selection {
    let n = cands.len();
    let mut out = Selection::none(n);
    if n == 0 {
        return out;
    }
    // No majority agreeing, everyone but `true` peers is suspect.
    let (low, high) = intersection(cands).unwrap_or((f64::INFINITY, f64::NEG_INFINITY));
    let mut truechimers: Vec<usize> = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        let inside = c.offset + c.distance >= low && c.offset - c.distance <= high;
        if inside || c.truechimer {
            truechimers.push(i);
        } else {
            out.codes[i] = select::FALSETICK;
        }
    }
    if truechimers.len() < params.minsane.max(1) {
        return out;
    }
    let metric = |i: usize| f64::from(cands[i].stratum) * STRATUM_WEIGHT + cands[i].distance;
    truechimers.sort_by(|&a, &b| metric(a).total_cmp(&metric(b)));
    for &i in truechimers.iter().skip(params.maxclock.max(1)) {
        out.codes[i] = select::EXCESS;
    }
    truechimers.truncate(params.maxclock.max(1));
    let mut survivors = truechimers;
    while survivors.len() > params.minclock.max(1) {
        let spread = |i: usize| {
            let sum: f64 = survivors
                .iter()
                .map(|&j| (cands[i].offset - cands[j].offset).powi(2))
                .sum();
            (sum / (survivors.len() - 1) as f64).sqrt()
        };
        let (worst_at, worst) = survivors
            .iter()
            .enumerate()
            .filter(|(_, &i)| !cands[i].prefer)
            .map(|(k, &i)| (k, spread(i)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        let least_jitter = survivors
            .iter()
            .map(|&i| cands[i].jitter)
            .fold(f64::INFINITY, f64::min);
        if worst <= least_jitter || cands[survivors[worst_at]].prefer {
            break;
        }
        out.codes[survivors[worst_at]] = select::OUTLIER;
        survivors.remove(worst_at);
    }
    let best_stratum = survivors.iter().map(|&i| cands[i].stratum).min();
    let system_peer = survivors
        .iter()
        .copied()
        .find(|&i| cands[i].prefer)
        .or_else(|| {
            previous.filter(|p| survivors.contains(p) && Some(cands[*p].stratum) == best_stratum)
        })
        .or_else(|| survivors.first().copied());
    let Some(sys) = system_peer else {
        return out;
    };
    let weight = |i: usize| 1.0 / cands[i].distance.max(1e-9);
    let total: f64 = survivors.iter().map(|&i| weight(i)).sum();
    out.offset = survivors
        .iter()
        .map(|&i| weight(i) * cands[i].offset)
        .sum::<f64>()
        / total;
    let spread = survivors
        .iter()
        .map(|&i| weight(i) * (cands[i].offset - cands[sys].offset).powi(2))
        .sum::<f64>()
        / total;
    out.jitter = (spread + cands[sys].jitter.powi(2)).sqrt();
    for &i in &survivors {
        out.codes[i] = select::CANDIDATE;
    }
    out.codes[sys] = select::SYS_PEER;
    out.system_peer = Some(sys);
    out.survivors = survivors;
    out
}

/// Marzullo's intersection as RFC 5905 A.5.5.1 runs it: the smallest
/// interval that contains the offsets of all but `allow` candidates and
/// overlaps all but `allow` of their intervals, for the fewest `allow`.
fn intersection(cands: &[Candidate]) -> Option<(f64, f64)> {
    let n = cands.len();
    let mut edges: Vec<(f64, i32)> = Vec::with_capacity(3 * n);
    for c in cands {
        edges.push((c.offset - c.distance, -1));
        edges.push((c.offset, 0));
        edges.push((c.offset + c.distance, 1));
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let needed = |allow: usize| (n - allow) as i32;
    for allow in 0..n.div_ceil(2) {
        let mut found = 0;
        let mut chime = 0;
        let mut low = f64::INFINITY;
        for &(edge, kind) in &edges {
            chime -= kind;
            if chime >= needed(allow) {
                low = edge;
                break;
            }
            if kind == 0 {
                found += 1;
            }
        }
        chime = 0;
        let mut high = f64::NEG_INFINITY;
        for &(edge, kind) in edges.iter().rev() {
            chime += kind;
            if chime >= needed(allow) {
                high = edge;
                break;
            }
            if kind == 0 {
                found += 1;
            }
        }
        if found > allow {
            continue;
        }
        if high >= low {
            return Some((low, high));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(offset: f64, distance: f64) -> Candidate {
        Candidate {
            offset,
            distance,
            jitter: 1e-4,
            stratum: 1,
            prefer: false,
            truechimer: false,
        }
    }

    #[test]
    fn one_server_is_the_system_peer() {
        let s = select(&[cand(0.001, 0.01)], None, Params::default());
        assert_eq!(s.system_peer, Some(0));
        assert_eq!(s.codes, [select::SYS_PEER]);
        assert!((s.offset - 0.001).abs() < 1e-12);
    }

    #[test]
    fn a_server_a_second_off_is_a_falseticker() {
        let cands = [
            cand(0.0001, 0.01),
            cand(-0.0001, 0.01),
            cand(0.0, 0.01),
            cand(1.0, 0.01),
        ];
        let s = select(&cands, None, Params::default());
        assert_eq!(s.codes[3], select::FALSETICK);
        assert_eq!(s.survivors.len(), 3);
        assert!(s.offset.abs() < 1e-4);
    }

    #[test]
    fn two_disagreeing_servers_leave_no_majority() {
        let s = select(&[cand(0.0, 0.01), cand(1.0, 0.01)], None, Params::default());
        assert_eq!(s.system_peer, None);
        assert_eq!(s.codes, [select::FALSETICK, select::FALSETICK]);
        // unless one is declared `true`
        let mut t = cand(1.0, 0.01);
        t.truechimer = true;
        let s = select(&[cand(0.0, 0.01), t], None, Params::default());
        assert_eq!(s.system_peer, Some(1));
    }

    #[test]
    fn prefer_wins_and_the_previous_peer_is_kept() {
        let mut p = cand(0.0002, 0.02);
        p.prefer = true;
        let cands = [cand(0.0, 0.005), p, cand(0.0001, 0.01)];
        let s = select(&cands, None, Params::default());
        assert_eq!(s.system_peer, Some(1));
        let plain = [cand(0.0, 0.005), cand(0.0002, 0.02), cand(0.0001, 0.01)];
        assert_eq!(select(&plain, None, Params::default()).system_peer, Some(0));
        assert_eq!(
            select(&plain, Some(2), Params::default()).system_peer,
            Some(2)
        );
    }

    #[test]
    fn clustering_drops_the_outlier_down_to_minclock() {
        let cands = [
            cand(0.0, 0.05),
            cand(0.0001, 0.05),
            cand(-0.0001, 0.05),
            cand(0.0002, 0.05),
            cand(0.03, 0.05),
        ];
        let s = select(&cands, None, Params::default());
        assert_eq!(s.codes[4], select::OUTLIER);
        assert_eq!(s.survivors.len(), 3);
    }

    #[test]
    fn lower_stratum_ranks_first_and_excess_is_marked() {
        let mut a = cand(0.0, 0.01);
        a.stratum = 3;
        let b = cand(0.0, 0.02);
        let params = Params {
            maxclock: 1,
            ..Params::default()
        };
        let s = select(&[a, b], None, params);
        assert_eq!(s.system_peer, Some(1));
        assert_eq!(s.codes[0], select::EXCESS);
    }
}
