//! Round trips through the real [`Encoder`] and every kind of damage, in
//! memory.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use age::secrecy::ExposeSecret as _;

use super::*;
use crate::encode::{Codec, EncodeStats, Encoder, Recipients};

mod tools;

/// Size of an age payload chunk on the wire (64 KiB + 16 bytes of tag).
const AGE_CHUNK: usize = (64 << 10) + 16;

/// Incompressible bytes, so that the stored stream spans several age chunks.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}

/// Three dozen KiB of text, then noise: about five age chunks once stored.
pub(super) fn dump() -> Vec<u8> {
    let mut dump = b"-- PostgreSQL database dump\nCOPY t (id) FROM stdin;\n".repeat(700);
    dump.extend(noise(300_000, 7));
    dump
}

pub(super) fn encode(
    input: &[u8],
    recipients: Option<&Recipients>,
    threads: usize,
) -> (Vec<u8>, EncodeStats) {
    let codec = Codec::Gzip { level: 6 };
    let mut encoder = Encoder::with_threads(Vec::new(), codec, recipients, threads).unwrap();
    encoder.write_all(input).unwrap();
    encoder.finish().unwrap()
}

/// Where an age file's payload starts: after the header's MAC line and
/// the 16-byte nonce.
fn payload_start(stored: &[u8]) -> usize {
    let mac = stored.windows(5).position(|w| w == b"\n--- ").unwrap() + 1;
    let end = mac + stored[mac..].iter().position(|&b| b == b'\n').unwrap() + 1;
    end + 16
}

pub(super) fn expected(stats: &EncodeStats) -> Expected {
    Expected {
        sha256: Some(stats.sha256.clone()),
        stored_bytes: Some(stats.stored_bytes),
        raw_bytes: Some(stats.raw_bytes),
    }
}

/// An x25519 identity written to a file and loaded back, with its recipient.
pub(super) fn x25519(dir: &Path) -> (Identities, Recipients) {
    let identity = age::x25519::Identity::generate();
    let path = dir.join("key.txt");
    std::fs::write(&path, identity.to_string().expose_secret()).unwrap();
    let recipients = Recipients::from_config(Some(&identity.to_public().to_string()), None);
    (
        Identities::from_file(&path).unwrap(),
        recipients.unwrap().unwrap(),
    )
}

/// A new ssh-ed25519 key loaded as identities, with its public key as recipient.
fn ssh_ed25519(dir: &Path) -> (Identities, Recipients) {
    let path = dir.join("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "dbbr-test", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    let recipients = Recipients::from_config(Some(&public), None)
        .unwrap()
        .unwrap();
    (Identities::from_file(&path).unwrap(), recipients)
}

/// What a caller sees: everything `read` returned and the verdict of
/// `finish`; or the error of `read` (as a stage) and of `finish`.
#[derive(Debug)]
enum Outcome {
    Decoded(Vec<u8>, DecodeStats),
    Failed {
        read: Option<Stage>,
        finish: (Stage, String),
    },
}

fn decode(stored: &[u8], identities: Option<&Identities>, expected: Expected) -> Outcome {
    let mut decoder = match Decoder::new(stored, Codec::default(), identities, expected) {
        Ok(decoder) => decoder,
        Err(Error::Decode { stage, message }) => {
            return Outcome::Failed {
                read: None,
                finish: (stage, message),
            }
        }
        Err(e) => panic!("not a decode error: {e}"),
    };
    let mut out = Vec::new();
    let read = decoder.read_to_end(&mut out);
    let read_stage = read.as_ref().err().map(|e| Stage::of(e).expect("a stage"));
    if let Err(e) = &read {
        // The error sticks: no clean end after a failure.
        let again = decoder.read(&mut [0; 16]).unwrap_err();
        assert_eq!(again.to_string(), e.to_string());
    }
    match decoder.finish() {
        Ok(stats) => {
            assert!(read.is_ok(), "read failed but finish succeeded");
            Outcome::Decoded(out, stats)
        }
        Err(Error::Decode { stage, message }) => Outcome::Failed {
            read: read_stage,
            finish: (stage, message),
        },
        Err(e) => panic!("not a decode error: {e}"),
    }
}

#[track_caller]
fn assert_decoded(outcome: Outcome, input: &[u8], stats: &EncodeStats) {
    let Outcome::Decoded(out, decoded) = outcome else {
        panic!("expected a round trip, got {outcome:?}");
    };
    assert!(out == input, "decoded {} bytes, not the input", out.len());
    assert_eq!(
        decoded,
        DecodeStats {
            raw_bytes: stats.raw_bytes,
            stored_bytes: stats.stored_bytes,
            sha256: stats.sha256.clone(),
            unread_bytes: 0,
        }
    );
}

/// Asserts the failure `finish` reports; returns the stage `read` reported.
#[track_caller]
fn assert_failed(outcome: Outcome, stage: Stage, message_part: &str) -> Option<Stage> {
    let Outcome::Failed { read, finish } = outcome else {
        panic!("expected a failure at {stage}, got a round trip");
    };
    assert_eq!(finish.0, stage, "{}", finish.1);
    assert!(finish.1.contains(message_part), "{}", finish.1);
    read
}

#[test]
fn plain_round_trip() {
    let input = dump();
    for threads in [1, 2] {
        let (stored, stats) = encode(&input, None, threads);
        assert_decoded(decode(&stored, None, expected(&stats)), &input, &stats);
        assert_decoded(decode(&stored, None, Expected::default()), &input, &stats);
    }
}

#[test]
fn encrypted_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let input = dump();
    for (identities, recipients) in [x25519(dir.path()), ssh_ed25519(dir.path())] {
        let (stored, stats) = encode(&input, Some(&recipients), 2);
        assert!(stored.len() > 4 * AGE_CHUNK, "only {} bytes", stored.len());
        let outcome = decode(&stored, Some(&identities), expected(&stats));
        assert_decoded(outcome, &input, &stats);
    }
}

#[test]
fn empty_dump_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let (stored, stats) = encode(b"", Some(&recipients), 1);
    assert_decoded(
        decode(&stored, Some(&identities), expected(&stats)),
        b"",
        &stats,
    );
}

#[test]
fn finish_reads_what_the_caller_left() {
    let input = dump();
    let (stored, stats) = encode(&input, None, 1);
    let mut decoder = Decoder::new(&stored[..], Codec::default(), None, expected(&stats)).unwrap();
    let mut head = vec![0; 1000];
    decoder.read_exact(&mut head).unwrap();
    assert_eq!(head, input[..1000]);
    assert_eq!(decoder.raw_bytes(), 1000);
    assert!(decoder.stored_bytes() > 0);
    let decoded = decoder.finish().unwrap();
    assert_eq!(decoded.unread_bytes, input.len() as u64 - 1000);
    assert_eq!(decoded.raw_bytes, input.len() as u64);
    assert_eq!(decoded.sha256, stats.sha256);
}

#[test]
fn flipped_byte_is_integrity_or_the_stage_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let input = dump();
    for encrypted in [false, true] {
        let to = encrypted.then_some(&recipients);
        let ids = encrypted.then_some(&identities);
        let (mut stored, stats) = encode(&input, to, 1);
        let middle = stored.len() / 2;
        stored[middle] ^= 0x20;

        let read = assert_failed(
            decode(&stored, ids, expected(&stats)),
            Stage::Integrity,
            "sha256 mismatch",
        );
        let symptom = if encrypted {
            Stage::Decrypt
        } else {
            Stage::Decompress
        };
        assert_eq!(read, Some(symptom), "read stops where the damage shows");

        let only_size = Expected {
            stored_bytes: Some(stats.stored_bytes),
            ..Expected::default()
        };
        for unknown_hash in [Expected::default(), only_size] {
            let part = if encrypted { "age payload" } else { "gzip" };
            let read = assert_failed(decode(&stored, ids, unknown_hash), symptom, part);
            assert_eq!(read, Some(symptom));
        }
    }
}

#[test]
fn damaged_age_header() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let (mut stored, stats) = encode(&dump(), Some(&recipients), 1);
    // Inside the header's MAC line: the file key unwraps, the MAC fails.
    let mac = stored.windows(5).position(|w| w == b"\n--- ").unwrap() + 5;
    stored[mac + 10] = if stored[mac + 10] == b'A' { b'B' } else { b'A' };
    let outcome = decode(&stored, Some(&identities), Expected::default());
    assert_failed(outcome, Stage::Decrypt, "MAC");
    let outcome = decode(&stored, Some(&identities), expected(&stats));
    let read = assert_failed(
        outcome,
        Stage::Integrity,
        "(decrypt had failed first: the age header fails its MAC check",
    );
    assert_eq!(read, None, "found by Decoder::new");
}

#[test]
fn truncated_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let input = dump();

    let (stored, stats) = encode(&input, Some(&recipients), 1);
    let start = payload_start(&stored);
    // Missing final chunk: cut at a chunk boundary, so that only the
    // missing last-chunk flag can tell.
    let last = start + (stored.len() - start - 1) / AGE_CHUNK * AGE_CHUNK;
    assert!(last > start + AGE_CHUNK && last < stored.len());
    let cut = &stored[..last];
    assert_failed(
        decode(cut, Some(&identities), Expected::default()),
        Stage::Decrypt,
        "truncated",
    );
    let read = assert_failed(
        decode(cut, Some(&identities), expected(&stats)),
        Stage::Integrity,
        &format!("ends after {last} of the {} bytes", stats.stored_bytes),
    );
    assert_eq!(
        read,
        Some(Stage::Integrity),
        "the size check fires before age sees the end"
    );
    // Cut inside a chunk.
    let cut = &stored[..stored.len() - 100];
    assert_failed(
        decode(cut, Some(&identities), Expected::default()),
        Stage::Decrypt,
        "age payload",
    );

    let (stored, stats) = encode(&input, None, 1);
    let cut = &stored[..stored.len() - 5];
    assert_failed(
        decode(cut, None, Expected::default()),
        Stage::Decompress,
        "gzip",
    );
    assert_failed(
        decode(cut, None, expected(&stats)),
        Stage::Integrity,
        "truncated",
    );
}

#[test]
fn appended_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let input = dump();
    for encrypted in [false, true] {
        let to = encrypted.then_some(&recipients);
        let ids = encrypted.then_some(&identities);
        let (mut stored, stats) = encode(&input, to, 1);
        stored.extend_from_slice(b"\0\0\0\0 trailing garbage\n");
        let read = assert_failed(
            decode(&stored, ids, expected(&stats)),
            Stage::Integrity,
            "is longer than",
        );
        assert_eq!(read, Some(Stage::Integrity));
        let stage = if encrypted {
            Stage::Decrypt
        } else {
            Stage::Decompress
        };
        assert_failed(decode(&stored, ids, Expected::default()), stage, "");
    }
}

#[test]
fn appended_gzip_member_caught_by_raw_size() {
    let input = dump();
    let (mut stored, stats) = encode(&input, None, 1);
    let (more, _) = encode(b"DROP TABLE t;\n", None, 1);
    stored.extend_from_slice(&more);
    // A second gzip member is standard gzip: it decodes...
    let Outcome::Decoded(out, _) = decode(&stored, None, Expected::default()) else {
        panic!("multi-member gzip should decode");
    };
    assert_eq!(out.len(), input.len() + 14);
    // ...but not into what the manifest records.
    let raw_only = Expected {
        raw_bytes: Some(stats.raw_bytes),
        ..Expected::default()
    };
    assert_failed(
        decode(&stored, None, raw_only),
        Stage::Integrity,
        "decodes to more than",
    );
}

#[test]
fn swapped_for_another_valid_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let input = dump();
    // The same dump encrypted twice: same content, other bytes (a new file
    // key, and age's header varies in length).
    let (_, stats) = encode(&input, Some(&recipients), 1);
    let (other, other_stats) = encode(&input, Some(&recipients), 1);
    assert_ne!(stats.sha256, other_stats.sha256);
    let read = assert_failed(
        decode(&other, Some(&identities), expected(&stats)),
        Stage::Integrity,
        "its manifest records",
    );
    assert_eq!(read, Some(Stage::Integrity));
    // Without the size, the sha256 tells.
    let hash_only = Expected {
        stored_bytes: None,
        ..expected(&stats)
    };
    let read = assert_failed(
        decode(&other, Some(&identities), hash_only),
        Stage::Integrity,
        &format!(
            "sha256 mismatch: the stored object hashes to {}, its manifest records {}",
            other_stats.sha256, stats.sha256
        ),
    );
    assert_eq!(read, Some(Stage::Integrity));
}

#[test]
fn wrong_identity_or_no_encryption() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, _) = x25519(dir.path());
    let other = tempfile::tempdir().unwrap();
    let (_, recipients) = x25519(other.path());
    let input = dump();
    let (stored, stats) = encode(&input, Some(&recipients), 1);
    let read = assert_failed(
        decode(&stored, Some(&identities), expected(&stats)),
        Stage::Decrypt,
        &format!(
            "no identity in identity file {}",
            dir.path().join("key.txt").display()
        ),
    );
    assert_eq!(read, None, "found by Decoder::new");

    // Encrypted, decoded as plain.
    assert_failed(
        decode(&stored, None, Expected::default()),
        Stage::Decompress,
        "invalid gzip header",
    );
    // Plain, decoded as encrypted.
    let (plain, stats) = encode(&input, None, 1);
    assert_failed(
        decode(&plain, Some(&identities), expected(&stats)),
        Stage::Decrypt,
        "does not start with an age header",
    );
}

/// A download that fails after `ok` bytes, and is interrupted on the way.
struct Flaky<'a> {
    data: &'a [u8],
    ok: usize,
    reads: usize,
}

impl Read for Flaky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.reads.is_multiple_of(3) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.ok == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ));
        }
        let n = buf.len().min(self.ok).min(self.data.len()).min(1000);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn download_failure_and_interruptions() {
    let dir = tempfile::tempdir().unwrap();
    let (identities, recipients) = x25519(dir.path());
    let input = dump();
    let (stored, stats) = encode(&input, Some(&recipients), 1);

    let whole = Flaky {
        data: &stored,
        ok: usize::MAX,
        reads: 0,
    };
    let mut decoder =
        Decoder::new(whole, Codec::default(), Some(&identities), expected(&stats)).unwrap();
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).unwrap();
    assert!(out == input);
    assert_eq!(decoder.finish().unwrap().sha256, stats.sha256);

    let broken = Flaky {
        data: &stored,
        ok: stored.len() / 2,
        reads: 0,
    };
    let mut decoder = Decoder::new(
        broken,
        Codec::default(),
        Some(&identities),
        expected(&stats),
    )
    .unwrap();
    let error = decoder.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(Stage::of(&error), Some(Stage::Download));
    assert_eq!(error.to_string(), "download: connection reset by peer");
    match decoder.finish() {
        Err(
            e @ Error::Decode {
                stage: Stage::Download,
                ..
            },
        ) => {
            assert_eq!(e.to_string(), "download: connection reset by peer")
        }
        other => panic!("expected a download error, got {other:?}"),
    }
}

#[test]
fn expected_sha256_checked_before_io() {
    let (stored, stats) = encode(b"x", None, 1);
    assert!(Decoder::new(&stored[..], Codec::default(), None, expected(&stats)).is_ok());
    let bad = Expected {
        sha256: Some("abc".into()),
        ..Expected::default()
    };
    assert!(matches!(
        Decoder::new(&stored[..], Codec::default(), None, bad),
        Err(Error::Decode {
            stage: Stage::Integrity,
            ..
        })
    ));
    let upper = Expected {
        sha256: Some(stats.sha256.to_uppercase()),
        ..Expected::default()
    };
    let Outcome::Decoded(out, _) = decode(&stored, None, upper) else {
        panic!("an upper-case sha256 is the same sha256");
    };
    assert_eq!(out, b"x");
}

#[test]
fn stage_names_and_send() {
    let names: Vec<String> = [
        Stage::Download,
        Stage::Integrity,
        Stage::Decrypt,
        Stage::Decompress,
    ]
    .iter()
    .map(Stage::to_string)
    .collect();
    assert_eq!(names, ["download", "integrity", "decrypt", "decompress"]);
    assert_eq!(Stage::of(&io::Error::other("plain")), None);
    fn send<T: Send>() {}
    send::<Decoder<Box<dyn Read + Send>>>();
}
