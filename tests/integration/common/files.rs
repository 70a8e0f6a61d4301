//! Files: listing what a remote left, test data, private and executable
//! files, and reading dumps back with the standard tools.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use super::stderr;

/// Every file below `dir` (recursively), as sorted paths relative to it.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts that nothing at all is below `dir`; `context` goes in the
/// failure message.
pub fn assert_empty(dir: &Path, context: &str) {
    assert_eq!(files_below(dir), Vec::<String>::new(), "{context}");
}

/// Deterministic, poorly compressible test data.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// SHA-256 of `bytes`, hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `text` to `path` with mode 0600.
pub fn write_private(path: &Path, text: &str) {
    write_with_mode(path, text, 0o600);
}

/// Writes the script `text` to `path` with mode 0755.
pub fn write_executable(path: &Path, text: &str) {
    write_with_mode(path, text, 0o755);
}

fn write_with_mode(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The text of a gzipped file, decompressed with `gunzip` (lossy: blobs
/// make dump text not UTF-8).
pub fn gunzipped(file: &Path) -> String {
    let out = Command::new("gunzip").arg("-c").arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "gunzip {}: {}",
        file.display(),
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
