//! The decoder against the standard tools: what gzip(1) and age(1) write
//! decodes, and what age(1) rejects as truncated, the decoder does too.

use std::io::Write as _;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::*;

/// Runs `program` with `input` on stdin; returns stdout.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{program} failed");
    out.stdout
}

#[test]
fn agrees_with_age_and_gzip_tools() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.txt");
    let status = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .stderr(Stdio::null())
        .status();
    assert!(status.unwrap().success());
    let identities = Identities::from_file(&key).unwrap();
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&key)
        .output()
        .unwrap();
    let recipient = String::from_utf8(public.stdout).unwrap().trim().to_owned();
    let input = dump();

    // gzip(1) writes, age(1) encrypts: the decoder reads it.
    let gzipped = pipe("gzip", &["-c"], &input);
    let stored = pipe("age", &["-r", &recipient], &gzipped);
    let hashed = Expected {
        sha256: Some(hex::encode(Sha256::digest(&stored))),
        stored_bytes: Some(stored.len() as u64),
        raw_bytes: Some(input.len() as u64),
    };
    let Outcome::Decoded(out, _) = decode(&stored, Some(&identities), hashed) else {
        panic!("files from the standard tools should decode");
    };
    assert!(out == input);

    // And what age(1) rejects as truncated, so does the decoder.
    let cut = &stored[..stored.len() - 1];
    let age = Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut age = age;
    age.stdin.take().unwrap().write_all(cut).unwrap_or(());
    assert!(
        !age.wait().unwrap().success(),
        "age accepted a truncated file"
    );
    assert_failed(
        decode(cut, Some(&identities), Expected::default()),
        Stage::Decrypt,
        "age payload",
    );
}
