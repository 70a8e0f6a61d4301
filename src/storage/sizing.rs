//! Part sizes for streams of unknown length. rclone uploads a stream to S3
//! in parts of `chunk_size` bytes and can store at most `max_upload_parts`
//! of them (10,000 on AWS; some compatible stores allow 1,000), so the part
//! size decides the largest stream an upload can take: 5 MiB parts stop at
//! about 48 GiB. dbbr estimates each dump's size before it starts and
//! chooses parts large enough for twice that.
//!
//! Memory: rclone holds `upload_concurrency` parts (default 4) of each upload
//! in memory at once, so an upload buffers 4 x the part size: 20 MiB at the
//! 5 MiB minimum, which covers every stream under 24 GiB at 10,000 parts.

use crate::error::{Error, Result, Setting};

/// S3's smallest part (except the last).
pub const MIN_CHUNK: u64 = 5 << 20;
/// S3's largest part.
pub const MAX_CHUNK: u64 = 5 << 30;
/// S3's most parts per upload.
pub const DEFAULT_MAX_PARTS: u64 = 10_000;
/// How much larger than the estimate a stream may grow and still fit.
const MARGIN: u64 = 2;
/// Part sizes are whole MiB.
const MIB: u64 = 1 << 20;

/// The expected size of one upload, and the store's part limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    expected: Option<u64>,
    max_parts: u64,
}

impl Default for Sizing {
    /// Unknown size, 10,000 parts.
    fn default() -> Sizing {
        Sizing {
            expected: None,
            max_parts: DEFAULT_MAX_PARTS,
        }
    }
}

impl Sizing {
    /// A stream of about `expected` bytes (`None`: unknown) to a store that
    /// takes at most `max_parts` parts.
    pub fn new(expected: Option<u64>, max_parts: u64) -> Sizing {
        Sizing {
            expected,
            max_parts: max_parts.max(1),
        }
    }

    /// The most parts an upload may have.
    pub fn max_parts(&self) -> u64 {
        self.max_parts
    }

    /// The part size for the stream: room for twice the estimate in
    /// `max_parts` parts, in whole MiB, within S3's limits. A stream of
    /// unknown size gets the room 5 MiB parts give at 10,000 parts (about
    /// 48 GiB) whatever the part limit. `None` when the defaults do.
    pub fn chunk_size(&self) -> Option<u64> {
        let room = match self.expected {
            Some(bytes) => bytes.saturating_mul(MARGIN),
            None => MIN_CHUNK * DEFAULT_MAX_PARTS,
        };
        let chunk = room
            .div_ceil(self.max_parts)
            .div_ceil(MIB)
            .saturating_mul(MIB)
            .clamp(MIN_CHUNK, MAX_CHUNK);
        let defaults = chunk == MIN_CHUNK && self.max_parts == DEFAULT_MAX_PARTS;
        (!defaults).then_some(chunk)
    }

    /// The part limit as given (`None`: S3's 10,000), checked before any I/O.
    pub(crate) fn checked_max_parts(given: Option<u64>) -> Result<u64> {
        match given {
            None => Ok(DEFAULT_MAX_PARTS),
            Some(n) if (1..=DEFAULT_MAX_PARTS).contains(&n) => Ok(n),
            Some(n) => Err(Error::config(
                Setting::UploadParts,
                format!("{n} parts is out of range: S3 stores take 1 to 10000 parts per upload"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn small_streams_keep_the_defaults() {
        assert_eq!(Sizing::default().chunk_size(), None);
        assert_eq!(Sizing::new(Some(GIB), 10_000).chunk_size(), None);
        // Twice 24 GiB still fits 10,000 parts of 5 MiB.
        assert_eq!(Sizing::new(Some(24 * GIB), 10_000).chunk_size(), None);
    }

    #[test]
    fn large_streams_get_parts_that_fit_twice_them() {
        for (expected, parts) in [(100 * GIB, 10_000), (3 * GIB, 1_000), (7 * GIB + 3, 997)] {
            let chunk = Sizing::new(Some(expected), parts).chunk_size().unwrap();
            assert_eq!(chunk % MIB, 0, "{chunk}");
            assert!(
                chunk * parts >= 2 * expected,
                "{expected} in {parts} x {chunk}"
            );
            // No more than one MiB per part above what is needed.
            assert!((chunk - MIB) * parts < 2 * expected, "{chunk} is wasteful");
        }
        assert_eq!(
            Sizing::new(Some(100 * GIB), 10_000).chunk_size(),
            Some(21 * MIB)
        );
    }

    #[test]
    fn unknown_sizes_keep_48_gib_of_room_with_fewer_parts() {
        assert_eq!(Sizing::new(None, 1_000).chunk_size(), Some(50 * MIB));
        assert_eq!(Sizing::new(None, 10_000).chunk_size(), None);
    }

    #[test]
    fn parts_stay_within_s3_limits() {
        assert_eq!(
            Sizing::new(Some(u64::MAX), 10_000).chunk_size(),
            Some(MAX_CHUNK)
        );
        assert_eq!(Sizing::new(Some(1), 1).chunk_size(), Some(MIN_CHUNK));
        assert_eq!(Sizing::new(Some(10 * GIB), 0).max_parts(), 1);
    }

    #[test]
    fn part_limits_are_checked() {
        assert_eq!(Sizing::checked_max_parts(None).unwrap(), 10_000);
        assert_eq!(Sizing::checked_max_parts(Some(1_000)).unwrap(), 1_000);
        for bad in [0, 10_001] {
            let e = Sizing::checked_max_parts(Some(bad)).unwrap_err();
            assert_eq!(e.setting(), Some(Setting::UploadParts));
        }
    }
}
