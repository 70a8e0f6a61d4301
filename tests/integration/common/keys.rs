//! Encryption keys made with the standard tools (`age-keygen`,
//! `ssh-keygen`), to encrypt backups to and decrypt them with `age`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run_ok;

/// A new age X25519 identity in `dir`: its file and its recipient
/// (`age1...`).
pub fn age_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("key.txt");
    run_ok(Command::new("age-keygen").arg("-o").arg(&key));
    let recipient = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    assert!(recipient.starts_with("age1"), "{recipient}");
    (key, recipient)
}

/// A new ssh-ed25519 key pair without passphrase in `dir`: the private
/// key's file, the public key's file (`id_ed25519.pub`) and the public
/// key's fingerprint (`SHA256:...`).
pub fn ssh_key(dir: &Path) -> (PathBuf, PathBuf, String) {
    let key = dir.join("id_ed25519");
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "backup@test", "-f"])
            .arg(&key),
    );
    let public = dir.join("id_ed25519.pub");
    let fingerprint = run_ok(Command::new("ssh-keygen").arg("-lf").arg(&public));
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap().to_string();
    assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
    (key, public, fingerprint)
}
