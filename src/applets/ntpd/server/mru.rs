//! The MRU table: recent clients, most recent first, in memory allocated
//! once. It is what rate limiting (`restrict ... limited`, `discard`)
//! measures, and what `ntpq mrulist` will show.
//!
//! A fixed array of entries, an open-addressing index into it (linear
//! probing, backward-shift deletion) and a doubly linked recency list
//! threaded through the entries. When the table is full the least recently
//! seen client makes room. The index is keyed with a per-process random
//! SipHash key, so nobody can pick addresses that pile into one bucket.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;

use crate::config::{Discard, MruLimits, RestrictFlags};

/// Entries kept when ntp.conf says nothing: classic's default `mru maxmem`
/// is 1024 KB, which at our entry size holds about this many.
pub const DEFAULT_CAPACITY: usize = 8192;
/// A hard ceiling whatever ntp.conf asks (about 100 MB of entries).
pub const MAX_CAPACITY: usize = 1 << 20;
/// The counter's ceiling is this many headways (classic NTP_SHIFT).
const HEADWAY_LIMIT_FACTOR: f64 = 8.0;
/// Grace subtracted from each headway increment, seconds (classic's 2 s).
const HEADWAY_GRACE: f64 = 2.0;
/// Grace on the minimum interval, seconds (classic's 1 s).
const MINIMUM_GRACE: f64 = 1.0;
/// Marks an empty index slot and the end of the recency list.
const NONE: u32 = u32::MAX;

/// One client as `ntpq mrulist` shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MruEntry {
    pub addr: IpAddr,
    /// The source port of the latest packet.
    pub port: u16,
    /// Monotonic seconds of the first and the latest packet.
    pub first: f64,
    pub last: f64,
    pub count: u32,
    pub mode: u8,
    pub version: u8,
    /// The restrict flags the latest packet got, rate limiting included.
    pub flags: RestrictFlags,
    /// The rate-limit counter ("leaky bucket"), seconds.
    leak: f64,
}

#[derive(Clone, Copy)]
struct Slot {
    entry: MruEntry,
    key: u128,
    v6: bool,
    /// Neighbours in the recency list (towards the newest, the oldest).
    newer: u32,
    older: u32,
}

/// What rate limiting decided for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateVerdict {
    /// Over the limit: do not serve.
    pub limited: bool,
    /// Over the limit for the first time in this burst: a RATE kiss may be
    /// sent (later packets of the burst are dropped silently).
    pub kod: bool,
}

pub struct Mru {
    slots: Vec<Slot>,
    index: Vec<u32>,
    index_mask: usize,
    newest: u32,
    oldest: u32,
    hasher: RandomState,
}

impl Mru {
    pub fn with_capacity(capacity: usize) -> Mru {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        // Load factor at most 1/2 keeps linear probes short.
        let index_len = (capacity * 2).next_power_of_two();
        Mru {
            slots: Vec::with_capacity(capacity),
            index: vec![NONE; index_len],
            index_mask: index_len - 1,
            newest: NONE,
            oldest: NONE,
            hasher: RandomState::new(),
        }
    }

    /// The capacity ntp.conf's `mru` line asks for.
    pub fn capacity_for(limits: &MruLimits) -> usize {
        let by_mem = limits
            .maxmem
            .map(|kb| kb as usize * 1024 / std::mem::size_of::<Slot>());
        limits
            .maxdepth
            .map(|d| d as usize)
            .or(by_mem)
            .unwrap_or(DEFAULT_CAPACITY)
            .clamp(1, MAX_CAPACITY)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Records a packet from `addr` and applies the `discard` limits.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        addr: IpAddr,
        port: u16,
        mode: u8,
        version: u8,
        now: f64,
        flags: RestrictFlags,
        discard: &Discard,
    ) -> RateVerdict {
        let (key, v6) = key_of(addr);
        let (bucket, found) = self.find(key, v6);
        let Some(at) = found else {
            let entry = MruEntry {
                addr,
                port,
                first: now,
                last: now,
                count: 1,
                mode,
                version,
                flags,
                leak: 0.0,
            };
            self.insert(bucket, key, v6, entry);
            return RateVerdict {
                limited: false,
                kod: false,
            };
        };
        self.touch(at);
        let e = &mut self.slots[at as usize].entry;
        let interval = (now - e.last).max(0.0);
        e.last = now;
        e.port = port;
        e.count = e.count.saturating_add(1);
        e.mode = mode;
        e.version = version;
        e.flags = flags;
        // The counter drains at one per second and fills by one headway
        // (2^average s) per packet; past eight headways the client is over.
        e.leak = (e.leak - interval).max(0.0);
        let headway = f64::from(1u32 << discard.average.min(16));
        let filled = e.leak + headway;
        let limit = HEADWAY_LIMIT_FACTOR * headway;
        if interval + MINIMUM_GRACE >= f64::from(discard.minimum) && filled < limit {
            e.leak = filled - HEADWAY_GRACE;
            RateVerdict {
                limited: false,
                kod: false,
            }
        } else if e.leak < limit {
            e.leak = limit + headway;
            RateVerdict {
                limited: true,
                kod: true,
            }
        } else {
            RateVerdict {
                limited: true,
                kod: false,
            }
        }
    }

    /// The entries, most recent first.
    pub fn iter(&self) -> impl Iterator<Item = &MruEntry> + '_ {
        let mut at = self.newest;
        std::iter::from_fn(move || {
            let slot = self.slots.get(at as usize)?;
            at = slot.older;
            Some(&slot.entry)
        })
    }

    /// The index bucket of `key`, and the slot holding it if present.
    fn find(&self, key: u128, v6: bool) -> (usize, Option<u32>) {
        let mut bucket = self.hasher.hash_one((key, v6)) as usize & self.index_mask;
        loop {
            match self.index[bucket] {
                NONE => return (bucket, None),
                at => {
                    let s = &self.slots[at as usize];
                    if s.key == key && s.v6 == v6 {
                        return (bucket, Some(at));
                    }
                }
            }
            bucket = (bucket + 1) & self.index_mask;
        }
    }

    fn insert(&mut self, bucket: usize, key: u128, v6: bool, entry: MruEntry) {
        let slot = Slot {
            entry,
            key,
            v6,
            newer: NONE,
            older: NONE,
        };
        let (at, bucket) = if self.slots.len() < self.slots.capacity() {
            self.slots.push(slot);
            ((self.slots.len() - 1) as u32, bucket)
        } else {
            // Full: the least recently seen client gives up its slot.
            let victim = self.oldest;
            self.unlink(victim);
            let (old_key, old_v6) = {
                let s = &self.slots[victim as usize];
                (s.key, s.v6)
            };
            self.remove_from_index(old_key, old_v6);
            self.slots[victim as usize] = slot;
            // The removal may have opened a hole earlier in this key's
            // probe run: look its bucket up again.
            (victim, self.find(key, v6).0)
        };
        self.index[bucket] = at;
        self.push_newest(at);
    }

    fn remove_from_index(&mut self, key: u128, v6: bool) {
        let (mut hole, found) = self.find(key, v6);
        if found.is_none() {
            return;
        }
        self.index[hole] = NONE;
        // Backward-shift: move later members of the probe run into the hole
        // when their home bucket allows it, so lookups never stop early.
        let mut probe = (hole + 1) & self.index_mask;
        while self.index[probe] != NONE {
            let at = self.index[probe];
            let s = &self.slots[at as usize];
            let home = self.hasher.hash_one((s.key, s.v6)) as usize & self.index_mask;
            let distance_home = probe.wrapping_sub(home) & self.index_mask;
            let distance_hole = probe.wrapping_sub(hole) & self.index_mask;
            if distance_home >= distance_hole {
                self.index[hole] = at;
                self.index[probe] = NONE;
                hole = probe;
            }
            probe = (probe + 1) & self.index_mask;
        }
    }

    fn touch(&mut self, at: u32) {
        if self.newest != at {
            self.unlink(at);
            self.push_newest(at);
        }
    }

    fn unlink(&mut self, at: u32) {
        let (newer, older) = {
            let s = &self.slots[at as usize];
            (s.newer, s.older)
        };
        match newer {
            NONE => self.newest = older,
            n => self.slots[n as usize].older = older,
        }
        match older {
            NONE => self.oldest = newer,
            o => self.slots[o as usize].newer = newer,
        }
    }

    fn push_newest(&mut self, at: u32) {
        let old_newest = self.newest;
        {
            let s = &mut self.slots[at as usize];
            s.newer = NONE;
            s.older = old_newest;
        }
        match old_newest {
            NONE => self.oldest = at,
            n => self.slots[n as usize].newer = at,
        }
        self.newest = at;
    }
}

fn key_of(addr: IpAddr) -> (u128, bool) {
    match addr {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
        IpAddr::V6(v6) => (u128::from(v6), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    fn seen(m: &mut Mru, n: u32, now: f64) -> RateVerdict {
        m.observe(
            ip(n),
            40000,
            3,
            4,
            now,
            RestrictFlags::default(),
            &Discard::default(),
        )
    }

    #[test]
    fn the_table_is_bounded_and_keeps_the_most_recent() {
        let mut m = Mru::with_capacity(100);
        for n in 0..1000 {
            seen(&mut m, n, f64::from(n));
        }
        assert_eq!(m.len(), 100);
        assert_eq!(m.capacity(), 100);
        let order: Vec<IpAddr> = m.iter().map(|e| e.addr).collect();
        let expected: Vec<IpAddr> = (900..1000).rev().map(ip).collect();
        assert_eq!(order, expected);
        // Every remaining client is still found (the index survived the
        // evictions): a repeat counts 2, not a new entry.
        for n in 900..1000 {
            seen(&mut m, n, 2000.0);
        }
        assert_eq!(m.len(), 100);
        assert!(m.iter().all(|e| e.count == 2));
    }

    #[test]
    fn polite_clients_are_never_limited() {
        let mut m = Mru::with_capacity(10);
        for i in 0..200 {
            assert!(!seen(&mut m, 1, f64::from(i) * 8.0).limited);
        }
    }

    #[test]
    fn a_fast_client_is_limited_with_one_kod_per_burst() {
        let mut m = Mru::with_capacity(10);
        let verdicts: Vec<RateVerdict> = (0..40)
            .map(|i| seen(&mut m, 1, f64::from(i) * 0.1))
            .collect();
        // Below the 2 s minimum interval: limited from the second packet.
        assert!(!verdicts[0].limited);
        assert!(verdicts[1].limited && verdicts[1].kod);
        assert!(verdicts[2..].iter().all(|v| v.limited && !v.kod));
        // After a long pause it is served again.
        assert!(!seen(&mut m, 1, 1000.0).limited);
    }

    #[test]
    fn one_second_polling_fills_the_bucket_after_a_while() {
        let mut m = Mru::with_capacity(10);
        let limited: Vec<bool> = (0..30)
            .map(|i| seen(&mut m, 1, f64::from(i)).limited)
            .collect();
        let first = limited
            .iter()
            .position(|&l| l)
            .expect("limited at some point");
        assert!((5..20).contains(&first), "first limited at {first}");
    }
}
