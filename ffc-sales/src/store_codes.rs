//! Interned store codes by their bytes: a row's raw `StoreCode` field is looked up as it is,
//! with no allocation and no byte-by-byte comparison call.
//!
//! Codes of up to 16 bytes (nearly all) are keyed by two words and the length, read with
//! fixed-size loads that overlap when the code is shorter than 16 bytes; together they
//! determine every byte, so equal keys are equal codes. Longer codes are keyed by their
//! bytes. Both maps are seeded per process (foldhash), as the code values come from files.

/// A code of at most 16 bytes as two words and its length: exact (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ShortCode {
    low: u64,
    high: u64,
    len: usize,
}

impl ShortCode {
    /// The key of `code`, or `None` when it is longer than 16 bytes.
    #[inline]
    pub(crate) fn of(code: &[u8]) -> Option<Self> {
        let len = code.len();
        let word = |at: usize| -> u64 {
            code.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        let half = |at: usize| -> u64 {
            code.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
        };
        let byte = |at: usize| -> u64 { code.get(at).map_or(0, |&b| u64::from(b)) };
        let (low, high) = match len {
            // The first and the last eight bytes (overlapping below 16).
            8..=16 => (word(0), word(len - 8)),
            // The first and the last four.
            4..=7 => (half(0), half(len - 4)),
            // Every byte: the first, the middle and the last cover 1 to 3 bytes.
            1..=3 => (byte(0) | byte(len / 2) << 8, byte(len - 1)),
            0 => (0, 0),
            _ => return None,
        };
        Some(ShortCode { low, high, len })
    }
}

/// Store indices by code.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoreCodes {
    short: foldhash::HashMap<ShortCode, u32>,
    long: foldhash::HashMap<Box<[u8]>, u32>,
}

impl StoreCodes {
    /// The index of `code`, if it was inserted.
    #[inline]
    pub(crate) fn get(&self, code: &[u8]) -> Option<u32> {
        self.get_keyed(code, ShortCode::of(code))
    }

    /// [`StoreCodes::get`] with the key already made (`short` is `ShortCode::of(code)`).
    #[inline]
    pub(crate) fn get_keyed(&self, code: &[u8], short: Option<ShortCode>) -> Option<u32> {
        match short {
            Some(key) => self.short.get(&key).copied(),
            None => self.long.get(code).copied(),
        }
    }

    /// Records `code` as `index` (the first index given stays).
    pub(crate) fn insert(&mut self, code: &[u8], index: u32) {
        match ShortCode::of(code) {
            Some(key) => self.short.entry(key).or_insert(index),
            None => self.long.entry(code.into()).or_insert(index),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Two codes share a key exactly when they are equal, at every length up to and past
        /// 16 bytes; and the table answers as a map would.
        #[test]
        fn keys_are_exact(
            codes in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8)], 0..20),
                1..40,
            ),
        ) {
            let mut table = StoreCodes::default();
            let mut model: std::collections::HashMap<Vec<u8>, u32> = Default::default();
            for (i, code) in codes.iter().enumerate() {
                let i = i as u32;
                prop_assert_eq!(table.get(code), model.get(code).copied());
                table.insert(code, i);
                model.entry(code.clone()).or_insert(i);
            }
            for a in &codes {
                for b in &codes {
                    if let (Some(ka), Some(kb)) = (ShortCode::of(a), ShortCode::of(b)) {
                        prop_assert_eq!(ka == kb, a == b);
                    }
                    prop_assert_eq!(table.get(a) == table.get(b), a == b);
                }
            }
        }
    }
}
