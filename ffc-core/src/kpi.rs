//! KPIs.
