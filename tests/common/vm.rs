//! The VM test harness: filled in with scripts/vm/.
