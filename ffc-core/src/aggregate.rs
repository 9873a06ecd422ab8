//! Aggregation: events and records into per-counter series.
