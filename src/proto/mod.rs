//! Wire formats, no I/O.
