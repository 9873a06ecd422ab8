//! What the validator checks against, and how much it keeps.

use crate::mapping::HeaderMapping;

/// Default for [`ValidationConfig::max_errors`].
pub const DEFAULT_MAX_ERRORS: usize = 1000;
/// Default for [`ValidationConfig::max_row_bytes`].
pub const DEFAULT_MAX_ROW_BYTES: usize = 64 * 1024;

/// What the validator checks against, and how much it keeps.
///
/// Built with `Default` and the `with_*` setters, like every configuration in ffc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidationConfig {
    /// How headers map onto the required fields.
    pub mapping: HeaderMapping,
    /// The site codes a `StoreCode` must be one of; `None` accepts any non-empty code.
    pub known_stores: Option<std::collections::HashSet<String>>,
    /// Errors kept in the report (all are counted). Default [`DEFAULT_MAX_ERRORS`].
    pub max_errors: usize,
    /// Report a row that repeats an earlier row's four values. Default on.
    pub detect_duplicates: bool,
    /// Longest row accepted, in bytes after unquoting. Default [`DEFAULT_MAX_ROW_BYTES`].
    pub max_row_bytes: usize,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        ValidationConfig {
            mapping: HeaderMapping::by_name(),
            known_stores: None,
            max_errors: DEFAULT_MAX_ERRORS,
            detect_duplicates: true,
            max_row_bytes: DEFAULT_MAX_ROW_BYTES,
        }
    }
}

impl ValidationConfig {
    /// Only these site codes are accepted.
    #[must_use]
    pub fn with_known_stores<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.known_stores = Some(codes.into_iter().map(Into::into).collect());
        self
    }

    /// Keep at most `n` errors in the report.
    #[must_use]
    pub fn with_max_errors(mut self, n: usize) -> Self {
        self.max_errors = n;
        self
    }

    /// Use this header mapping.
    #[must_use]
    pub fn with_mapping(mut self, mapping: HeaderMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Turn duplicate-row detection on or off.
    #[must_use]
    pub fn with_detect_duplicates(mut self, on: bool) -> Self {
        self.detect_duplicates = on;
        self
    }

    /// Refuse rows longer than `bytes` (after unquoting).
    #[must_use]
    pub fn with_max_row_bytes(mut self, bytes: usize) -> Self {
        self.max_row_bytes = bytes;
        self
    }
}
