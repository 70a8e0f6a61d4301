//! SFTP (OpenSSH) configured by docs/storage.md's recipes: key file and key in
//! a variable, the server's key pinned, relative and absolute prefixes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::backend_checks::*;
use crate::common::*;

/// A known_hosts file that pins the test server's host key.
fn known_hosts(dir: &Path) -> PathBuf {
    let key = std::fs::read_to_string(setting("DBBR_TEST_SFTP_HOST_KEY")).unwrap();
    let key: Vec<&str> = key.split_whitespace().take(2).collect();
    let path = dir.join("known_hosts");
    let line = format!(
        "[{}]:{} {}\n",
        setting("DBBR_TEST_SFTP_HOST"),
        setting("DBBR_TEST_SFTP_PORT"),
        key.join(" ")
    );
    std::fs::write(&path, line).unwrap();
    path
}

/// The recipe `name` for the test server, with the prefix `prefix`.
fn sftp_recipe(name: &str, dir: &Path, prefix_from: &str, prefix: &str) -> Vec<(String, String)> {
    let port = format!("_PORT={}", setting("DBBR_TEST_SFTP_PORT"));
    let user = format!("_USER={}", setting("DBBR_TEST_SFTP_USER"));
    let known_hosts = known_hosts(dir);
    recipe(
        name,
        &[
            ("backup.example.com", &setting("DBBR_TEST_SFTP_HOST")),
            ("_PORT=22", &port),
            ("_USER=backup", &user),
            (
                "/run/secrets/id_ed25519",
                &setting("DBBR_TEST_SFTP_KEY_FILE"),
            ),
            ("/etc/dbbr/known_hosts", known_hosts.to_str().unwrap()),
            (prefix_from, prefix),
        ],
    )
}

/// The backend for `vars`, whose objects land in `dir` on this machine.
fn backend(vars: Vec<(String, String)>, dir: PathBuf) -> Backend {
    Backend {
        vars,
        server_view: Box::new(move || disk_view(&dir)),
    }
}

#[test]
fn backends_sftp_key_file_relative_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = unique("sftprel");
    let vars = sftp_recipe(
        "sftp-key-file",
        tmp.path(),
        "UPLOAD_PREFIX=backups/postgres",
        &format!("UPLOAD_PREFIX={folder}/postgres"),
    );
    // Relative: below the directory the server starts sessions in.
    let dir = Path::new(&setting("DBBR_TEST_SFTP_HOME"))
        .join(&folder)
        .join("postgres");
    let b = backend(vars.clone(), dir);
    b.round_trip();

    // Unreachable, a key the server does not accept, a host key that is
    // not the pinned one: one line each, exit 1.
    b.fails_cleanly(
        "unreachable",
        &with_var(&vars, "RCLONE_CONFIG_STORE_PORT", &closed_port()),
        &["connection refused"],
    );
    let other_key = tmp.path().join("other_key");
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&other_key),
    );
    b.fails_cleanly(
        "wrong key",
        &with_var(
            &vars,
            "RCLONE_CONFIG_STORE_KEY_FILE",
            other_key.to_str().unwrap(),
        ),
        &["unable to authenticate"],
    );
    let wrong_hosts = tmp.path().join("wrong_known_hosts");
    let other_pub = std::fs::read_to_string(other_key.with_extension("pub")).unwrap();
    std::fs::write(
        &wrong_hosts,
        format!(
            "[{}]:{} {}",
            setting("DBBR_TEST_SFTP_HOST"),
            setting("DBBR_TEST_SFTP_PORT"),
            other_pub
        ),
    )
    .unwrap();
    b.fails_cleanly(
        "host key not the pinned one",
        &with_var(
            &vars,
            "RCLONE_CONFIG_STORE_KNOWN_HOSTS_FILE",
            wrong_hosts.to_str().unwrap(),
        ),
        &["key mismatch"],
    );
    b.aborted_upload_leaves_nothing(|view, _| view.iter().any(|f| f.ends_with(".partial")));
}

#[test]
fn backends_sftp_key_pem_absolute_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = unique("sftpabs");
    let dir = Path::new(&setting("DBBR_TEST_SFTP_ROOT")).join(&folder);
    let vars = sftp_recipe(
        "sftp-key-pem",
        tmp.path(),
        "UPLOAD_PREFIX=/srv/backups/postgres",
        &format!("UPLOAD_PREFIX={}", dir.display()),
    );
    let pem = &vars
        .iter()
        .find(|(k, _)| k == "RCLONE_CONFIG_STORE_KEY_PEM")
        .unwrap()
        .1;
    assert!(
        pem.starts_with("-----BEGIN") && pem.contains("\\n") && !pem.contains('\n'),
        "the key on one line with \\n for line breaks"
    );
    let b = backend(vars, dir);
    b.round_trip();
}
