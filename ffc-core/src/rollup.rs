//! Roll-up.
