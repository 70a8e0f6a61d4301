//! Tests of the parent module.

use std::io::{BufReader, Read};

use flate2::read::MultiGzDecoder;

use super::*;

// Key pairs generated with `ssh-keygen -N ""` for these tests only.
pub(crate) const ED25519_PUBLIC: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOgNgy4mxS7YH2trsV7x4Y77p9kLXuAEsCLbNUPudhH dbbr-test";
const ED25519_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCjoDYMuJsUu2B9ra7Fe8eGO+6fZC17gBLAi2zVD7nYRwAAAJDkk2Nb5JNj
WwAAAAtzc2gtZWQyNTUxOQAAACCjoDYMuJsUu2B9ra7Fe8eGO+6fZC17gBLAi2zVD7nYRw
AAAEBDSpmhMRaXRoe8R26jYH1ECmufqFlAubg7D2CAr0v3WaOgNgy4mxS7YH2trsV7x4Y7
7p9kLXuAEsCLbNUPudhHAAAACWRiYnItdGVzdAECAwQ=
-----END OPENSSH PRIVATE KEY-----
";
pub(crate) const RSA_PUBLIC: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC3Qmbt/0v02eeFdPJ2/X05Nyb277ezDloHQRnYaT5mHn4rh27nLJE6YILsxCmutCLTykfzN5JxnfwJthYBbwyryIM5yZMmoHtoarlYAKV02aD2NhlxqARs7a6jK7pSCfF4r1eIWyvW5ikOvIgB9Qmjf207BF68w7Jhm6djSZlLrTOYMl0iQZBXJK7pYUAVBZN/NcoFp94ZOJBI+glTyPampAXmkPbz3Vx92gt8aJtwDsCENITPHrSqi4oKFRCQfMiKPA5xKMjGZzK2gUhHYaXjIWnpzebIlQTftceLdvVAtaVAYeJvZL8P6ahVzHbf4cKBcDAisnQyB3Mf/eWXFRf/ dbbr-test";
const RSA_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdzc2gtcn
NhAAAAAwEAAQAAAQEAt0Jm7f9L9NnnhXTydv19OTcm9u+3sw5aB0EZ2Gk+Zh5+K4du5yyR
OmCC7MQprrQi08pH8zeScZ38CbYWAW8Mq8iDOcmTJqB7aGq5WACldNmg9jYZcagEbO2uoy
u6UgnxeK9XiFsr1uYpDryIAfUJo39tOwRevMOyYZunY0mZS60zmDJdIkGQVySu6WFAFQWT
fzXKBafeGTiQSPoJU8j2pqQF5pD2891cfdoLfGibcA7AhDSEzx60qouKChUQkHzIijwOcS
jIxmcytoFIR2Gl4yFp6c3myJUE37XHi3b1QLWlQGHib2S/D+moVcx23+HCgXAwIrJ0Mgdz
H/3llxUX/wAAA8DmbGcB5mxnAQAAAAdzc2gtcnNhAAABAQC3Qmbt/0v02eeFdPJ2/X05Ny
b277ezDloHQRnYaT5mHn4rh27nLJE6YILsxCmutCLTykfzN5JxnfwJthYBbwyryIM5yZMm
oHtoarlYAKV02aD2NhlxqARs7a6jK7pSCfF4r1eIWyvW5ikOvIgB9Qmjf207BF68w7Jhm6
djSZlLrTOYMl0iQZBXJK7pYUAVBZN/NcoFp94ZOJBI+glTyPampAXmkPbz3Vx92gt8aJtw
DsCENITPHrSqi4oKFRCQfMiKPA5xKMjGZzK2gUhHYaXjIWnpzebIlQTftceLdvVAtaVAYe
JvZL8P6ahVzHbf4cKBcDAisnQyB3Mf/eWXFRf/AAAAAwEAAQAAAQAIrkW/gr2PjNeuULEN
LEphCj9d2+xKhQsd5A2PXMNIUkVzvM4zqr7H+LsuIy4+SLYln71ZkTy7BdrJTJP6RjWTC/
dIJq5CJ1pXj3nVtO7uSNwBDbFi2t/RMRxGpAZtZtJgMlFMWjukMFh3JDyx3j0yPqtnHxJF
xGQpj3zJJtSMhKrBHv5i9bfYwfKj53IionM9H0nPHRDOg1256XLR2qetdqj/Ix1Fepn1oG
uOwLyPydtlf4LxxqHlwhPDwT1tA6xWIIhfXT92JUZgld76awES7wXwFd26YCMqgcBALZYC
f+ItfYxIQAMtPiwSzt8Tvsy5fsNUMCpGHQxuATmDLhrxAAAAgFhki8VAwdHh3q70+EfK7P
AQ/3q6A/JhZ/dQcqqy9jUFQAT179+QhZIqtaWvcmpVp6wsC52dAIBhLO+CpT8cI/8ujKEF
/ZxI8w6DRYoh8pAGC9MUD0KJ4C6lokChMC3W8lt0UReiaAutV/2V6JCWm+SzWK0h3YUCwn
f7v07qwtFJAAAAgQD0E13JwdxNmpbmRYF1VJLAEhCb8oh32+dJaNj/f4B2Ejg+SbI1e+/2
xXDBMNTl6dpURrkdJgpzzWg4CpkboAwsdzB6FWbnyMtVgeWJPXT8aG+L0giXSvizCbOJkC
G9E8bZrS6hLgyfQ7Oz3i/MrRe9AbblMy6JIhkl3Vn/xD2xvQAAAIEAwDZpaeJ7Qu2ewUN7
z1SBQD9iSop9pTXhqtkSf1kPWBjL9deTN+c7DvMo+EuvRoSWQkUXwJ1v6fKt9ufy3vMvna
yWNYimGl6O7HTPgN7QXpMQIlB0taBr3m7JpIGhTSWvTvERAHScv4qoCsAij+ySw93XLPB7
Cj5UzwmBRRXM5msAAAAJZGJici10ZXN0AQI=
-----END OPENSSH PRIVATE KEY-----
";

const SAMPLE: &[u8] = b"-- PostgreSQL database dump\nCOPY t (id) FROM stdin;\n1\n2\n\\.\n";

/// Compressible, not trivially repetitive text: words an LCG picks.
fn pseudo_dump(len: usize) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "INSERT ", "INTO ", "t ", "VALUES ", "(1, ", "'x'", ");\n", "NULL ",
    ];
    let mut state: u32 = 0x2545_f491;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.extend_from_slice(WORDS[(state >> 29) as usize].as_bytes());
    }
    out.truncate(len);
    out
}

fn encode(input: &[u8], recipients: Option<&Recipients>) -> (Vec<u8>, EncodeStats) {
    let mut encoder = Encoder::new(Vec::new(), Codec::default(), recipients).unwrap();
    encoder.write_all(input).unwrap();
    assert_eq!(encoder.raw_bytes(), input.len() as u64);
    encoder.finish().unwrap()
}

fn gunzip(bytes: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn decrypt(stored: &[u8], identity: &dyn age::Identity) -> Vec<u8> {
    let decryptor = age::Decryptor::new(stored).unwrap();
    gunzip(decryptor.decrypt(std::iter::once(identity)).unwrap())
}

fn recipients(inline: &str) -> Recipients {
    Recipients::from_config(Some(inline), None)
        .unwrap()
        .unwrap()
}

fn ssh_identity(private: &str) -> age::ssh::Identity {
    let identity = age::ssh::Identity::from_buffer(BufReader::new(private.as_bytes()), None);
    match identity.unwrap() {
        identity @ age::ssh::Identity::Unencrypted(_) => identity,
        _ => panic!("test key should be an unencrypted ssh key"),
    }
}

fn assert_stats(stored: &[u8], stats: &EncodeStats, raw: usize) {
    assert_eq!(stats.raw_bytes, raw as u64);
    assert_eq!(stats.stored_bytes, stored.len() as u64);
    assert_eq!(stats.sha256, hex::encode(Sha256::digest(stored)));
}

#[test]
fn codec_names() {
    let codec = Codec::default();
    assert_eq!(codec, Codec::Gzip { level: 2 });
    assert_eq!((codec.extension(), codec.name()), ("gz", "gzip"));
    let zstd = Codec::from_name("zstd", None).unwrap();
    assert_eq!(zstd, Codec::Zstd { level: 3 });
    assert_eq!((zstd.extension(), zstd.name()), ("zst", "zstd"));
    assert_eq!(
        Codec::from_name("GZIP", Some(9)).unwrap(),
        Codec::Gzip { level: 9 }
    );
    assert_eq!(Codec::from_name("none", None).unwrap(), Codec::None);
    for (name, level, says) in [
        ("lz4", None, "unknown compression `lz4`"),
        ("zstd", Some(20), "zstd level 20 is out of range"),
        ("zstd", Some(0), "zstd level 0 is out of range"),
        ("gzip", Some(13), "gzip level 13 is out of range"),
        ("none", Some(1), "no compression"),
    ] {
        match Codec::from_name(name, level) {
            Err(Error::Config { setting, message }) => {
                assert_eq!(setting, Setting::Compression);
                assert!(message.contains(says), "{message}");
            }
            other => panic!("{name} {level:?}: {other:?}"),
        }
    }
}

#[test]
fn encoder_and_recipients_can_cross_threads() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Encoder<Vec<u8>>>();
    send::<Recipients>();
    sync::<Recipients>();
}

#[test]
fn gzip_round_trip_and_stats() {
    let (stored, stats) = encode(SAMPLE, None);
    assert_eq!(&stored[..2], [0x1f, 0x8b]);
    assert_eq!(gunzip(&stored[..]), SAMPLE);
    assert_stats(&stored, &stats, SAMPLE.len());
}

#[test]
fn gzip_level_out_of_range_rejected() {
    let result = Encoder::new(Vec::new(), Codec::Gzip { level: 13 }, None);
    match result {
        Err(Error::Config { message, .. }) => assert!(message.contains("gzip level 13")),
        _ => panic!("level 13 should be a config error"),
    }
}

#[test]
fn age_x25519_round_trip() {
    let identity = age::x25519::Identity::generate();
    let to = recipients(&identity.to_public().to_string());
    let (stored, stats) = encode(SAMPLE, Some(&to));
    assert!(stored.starts_with(b"age-encryption.org/v1\n-> X25519 "));
    assert_eq!(decrypt(&stored, &identity), SAMPLE);
    assert_stats(&stored, &stats, SAMPLE.len());
    let other = age::x25519::Identity::generate();
    let decryptor = age::Decryptor::new(&stored[..]).unwrap();
    assert!(decryptor.decrypt(std::iter::once(&other as _)).is_err());
}

#[test]
fn ssh_ed25519_round_trip() {
    let (stored, stats) = encode(SAMPLE, Some(&recipients(ED25519_PUBLIC)));
    assert!(stored.starts_with(b"age-encryption.org/v1\n-> ssh-ed25519 "));
    assert_eq!(decrypt(&stored, &ssh_identity(ED25519_PRIVATE)), SAMPLE);
    assert_stats(&stored, &stats, SAMPLE.len());
}

#[test]
fn ssh_rsa_round_trip() {
    let (stored, _) = encode(SAMPLE, Some(&recipients(RSA_PUBLIC)));
    assert!(stored.starts_with(b"age-encryption.org/v1\n-> ssh-rsa "));
    assert_eq!(decrypt(&stored, &ssh_identity(RSA_PRIVATE)), SAMPLE);
}

#[test]
fn each_of_several_recipients_decrypts() {
    let identity = age::x25519::Identity::generate();
    let to = recipients(&format!("{ED25519_PUBLIC},{}", identity.to_public()));
    let (stored, _) = encode(SAMPLE, Some(&to));
    assert_eq!(decrypt(&stored, &identity), SAMPLE);
    assert_eq!(decrypt(&stored, &ssh_identity(ED25519_PRIVATE)), SAMPLE);
}

#[test]
fn large_input_in_odd_chunks_round_trips() {
    let input = pseudo_dump(20 << 20);
    let identity = age::x25519::Identity::generate();
    let to = recipients(&identity.to_public().to_string());
    let codec = Codec::Gzip { level: 1 };
    let mut encoder = Encoder::new(Vec::new(), codec, Some(&to)).unwrap();
    let mut sizes = [1, 4093, 65_537, 7, 300_001, 65_536].iter().cycle();
    let mut rest = &input[..];
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at((*sizes.next().unwrap()).min(rest.len()));
        encoder.write_all(chunk).unwrap();
        rest = tail;
    }
    assert!(encoder.stored_bytes() > 0, "nothing streamed before finish");
    let (stored, stats) = encoder.finish().unwrap();
    assert!(
        stored.len() < input.len() / 3,
        "not compressed: {}",
        stored.len()
    );
    assert_stats(&stored, &stats, input.len());
    assert!(decrypt(&stored, &identity) == input, "round trip differs");
}

/// Accepts `limit` bytes, then fails every write; counts calls after that.
struct Failing {
    taken: Vec<u8>,
    limit: usize,
    calls_after_failure: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit - self.taken.len();
        if room == 0 {
            self.calls_after_failure += 1;
            return Err(io::Error::other("disk full"));
        }
        let n = room.min(buf.len());
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn failing(limit: usize) -> Failing {
    Failing {
        taken: Vec::new(),
        limit,
        calls_after_failure: 0,
    }
}

#[test]
fn inner_failure_during_write_is_an_error() {
    let identity = age::x25519::Identity::generate();
    let to = recipients(&identity.to_public().to_string());
    let mut encoder = Encoder::with_threads(failing(1000), Codec::default(), Some(&to), 1).unwrap();
    let input = pseudo_dump(4 << 20);
    let error = encoder.write_all(&input).unwrap_err();
    assert_eq!(error.to_string(), "disk full");
    assert_eq!(encoder.stored_bytes(), 1000);
    assert!(
        encoder.write_all(SAMPLE).is_err(),
        "write after failure succeeded"
    );
    match encoder.finish() {
        Err(Error::Io { .. }) => {}
        other => panic!("finish after a failed write: {:?}", other.map(|r| r.1)),
    }
}

#[test]
fn inner_failure_at_finish_is_an_error() {
    // A small input stays in gzip's block until finish, which fails.
    let mut encoder = Encoder::with_threads(failing(10), Codec::default(), None, 1).unwrap();
    encoder.write_all(SAMPLE).unwrap();
    assert_eq!(encoder.stored_bytes(), 0);
    match encoder.finish() {
        Err(error @ Error::Io { .. }) => {
            assert!(
                error.to_string().starts_with("finishing the gzip stream"),
                "{error}"
            );
        }
        other => panic!("expected an io error, got {:?}", other.map(|r| r.1)),
    }
}

#[test]
fn parallel_compression_makes_standard_gzip_that_gunzip_reads() {
    let identity = age::x25519::Identity::generate();
    let to = recipients(&identity.to_public().to_string());
    let input = pseudo_dump(9 << 20);
    for threads in [2, 3] {
        let mut encoder =
            Encoder::with_threads(Vec::new(), Codec::default(), Some(&to), threads).unwrap();
        for chunk in input.chunks(100_003) {
            encoder.write_all(chunk).unwrap();
        }
        let (stored, stats) = encoder.finish().unwrap();
        assert_eq!(stats.raw_bytes, input.len() as u64);
        assert_eq!(stats.stored_bytes, stored.len() as u64);
        assert_eq!(stats.sha256, hex::encode(Sha256::digest(&stored)));
        let decryptor = age::Decryptor::new(&stored[..]).unwrap();
        let mut compressed = Vec::new();
        decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut compressed)
            .unwrap();
        // Standard multi-member gzip: GNU gzip reads it as one stream.
        let mut gunzip = std::process::Command::new("gzip")
            .arg("-dc")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = gunzip.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || stdin.write_all(&compressed).unwrap());
        let out = gunzip.wait_with_output().unwrap();
        feeder.join().unwrap();
        assert!(out.status.success());
        assert!(out.stdout == input, "gzip -d read back something else");
    }
}

#[test]
fn parallel_inner_failure_is_an_io_error_and_drop_does_not_panic() {
    let input = pseudo_dump(4 << 20);
    let mut encoder = Encoder::with_threads(failing(5000), Codec::default(), None, 2).unwrap();
    let wrote = input
        .chunks(64 * 1024)
        .try_for_each(|c| encoder.write_all(c));
    match (wrote, encoder.finish()) {
        (_, Err(Error::Io { .. })) => {}
        (Err(_), Err(_)) => {}
        (w, f) => panic!(
            "expected a failure, got write {w:?} finish {:?}",
            f.map(|r| r.1)
        ),
    }
    let mut abandoned = Encoder::with_threads(failing(100), Codec::default(), None, 2).unwrap();
    let _ = abandoned.write_all(&input);
    drop(abandoned);
}

#[test]
fn a_parallel_compressor_whose_pipeline_failed_is_never_used_again() {
    // The writer fails at once; gzp's pipeline shuts down and any further
    // call on it would panic: a retried write, finish and drop must not.
    let outcome = std::panic::catch_unwind(|| {
        let block = pseudo_dump(1 << 20);
        let mut encoder = Encoder::with_threads(failing(0), Codec::default(), None, 2).unwrap();
        let mut failed = None;
        for _ in 0..256 {
            if let Err(e) = encoder.write_all(&block) {
                failed = Some(e);
                break;
            }
        }
        let failed = failed.expect("writing to a failing sink fails");
        assert_ne!(failed.kind(), io::ErrorKind::Interrupted, "{failed}");
        assert!(encoder.write_all(&block).is_err());
        assert!(encoder.flush().is_err());
        assert!(encoder.finish().is_err());
    });
    assert!(
        outcome.is_ok(),
        "the encoder panicked after its pipeline failed"
    );
}

#[test]
fn inner_failure_writing_age_header_is_an_error() {
    let to = recipients(ED25519_PUBLIC);
    match Encoder::new(failing(10), Codec::default(), Some(&to)) {
        Err(Error::Io { context, .. }) => assert_eq!(context, "writing the age header"),
        _ => panic!("expected an io error for the age header"),
    }
}

#[test]
fn sink_stops_writing_after_a_failure() {
    let shared = Arc::new(Shared::default());
    let mut sink = Sink {
        inner: failing(3),
        hasher: Sha256::new(),
        shared: Arc::clone(&shared),
    };
    assert!(sink.write_all(b"abcdef").is_err());
    assert!(sink.write_all(b"gh").is_err());
    assert_eq!(sink.inner.taken, b"abc");
    assert_eq!(
        sink.inner.calls_after_failure, 1,
        "wrote again after a failure"
    );
    assert_eq!(shared.stored.load(Ordering::Relaxed), 3);
}
