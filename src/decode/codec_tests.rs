//! Every codec through the real [`Encoder`] and back, and a manifest whose
//! codec lies.

use std::io::Write as _;

use super::tests::{dump, encode, expected, x25519};
use super::*;
use crate::encode::{Codec, Encoder};

#[test]
fn every_codec_round_trips_and_a_wrong_codec_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let input = dump();
    for codec in [
        Codec::Gzip { level: 1 },
        Codec::Gzip { level: 12 },
        Codec::Zstd { level: 3 },
        Codec::None,
    ] {
        for threads in [1, 2] {
            let mut encoder =
                Encoder::with_threads(Vec::new(), codec, Some(&recipients), threads).unwrap();
            encoder.write_all(&input).unwrap();
            let (stored, stats) = encoder.finish().unwrap();
            let mut decoder =
                Decoder::new(&stored[..], codec, Some(&identities), expected(&stats)).unwrap();
            let mut out = Vec::new();
            decoder.read_to_end(&mut out).unwrap();
            assert!(out == input, "{codec:?} on {threads} threads");
            decoder.finish().unwrap();
        }
    }
    // A zstd backup read as gzip (a manifest that lies) fails, and the
    // other way round.
    let mut encoder = Encoder::new(Vec::new(), Codec::Zstd { level: 3 }, None).unwrap();
    encoder.write_all(&input).unwrap();
    let (zstd, _) = encoder.finish().unwrap();
    let (gzip, _) = encode(&input, None, 2);
    for (stored, wrong) in [(&zstd, Codec::default()), (&gzip, Codec::Zstd { level: 3 })] {
        let outcome =
            Decoder::new(&stored[..], wrong, None, Expected::default()).and_then(|mut d| {
                let mut out = Vec::new();
                let _ = d.read_to_end(&mut out);
                d.finish()
            });
        assert!(
            matches!(
                outcome,
                Err(Error::Decode {
                    stage: Stage::Decompress,
                    ..
                })
            ),
            "{wrong:?}: {outcome:?}"
        );
    }
}
