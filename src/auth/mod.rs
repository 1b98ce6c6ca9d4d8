//! Symmetric-key authentication (issue 8): filled in by the helper that owns it.
