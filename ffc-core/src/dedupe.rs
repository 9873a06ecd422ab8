//! Deduplication on [`crate::EventKey`].
