//! SMB (Samba) configured by docs/storage.md's recipe, its password obscured
//! by `dbbr remote obscure`.

use std::path::Path;
use std::process::Command;

use crate::common::backend_checks::*;
use crate::common::*;

#[test]
fn backends_smb_round_trip_and_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let password = tmp.path().join("smb-password");
    write_private(
        &password,
        &format!("{}\n", setting("DBBR_TEST_SMB_PASSWORD")),
    );
    let folder = unique("smb");
    let port = format!("_PORT={}", setting("DBBR_TEST_SMB_PORT"));
    let user = format!("_USER={}", setting("DBBR_TEST_SMB_USER"));
    let prefix = format!("UPLOAD_PREFIX={}/{folder}", setting("DBBR_TEST_SMB_SHARE"));
    let vars = recipe(
        "smb",
        &[
            ("fileserver.example.com", &setting("DBBR_TEST_SMB_HOST")),
            ("_PORT=445", &port),
            ("_USER=backup", &user),
            ("/run/secrets/smb-password", password.to_str().unwrap()),
            ("UPLOAD_PREFIX=backups/postgres", &prefix),
        ],
    );
    // The recipe's password is rclone's obscured form of the real one.
    let obscured = &vars
        .iter()
        .find(|(k, _)| k == "RCLONE_CONFIG_STORE_PASS")
        .unwrap()
        .1;
    assert_ne!(obscured, &setting("DBBR_TEST_SMB_PASSWORD"));
    let revealed = run_ok(Command::new("rclone").args(["reveal", obscured]));
    assert_eq!(revealed.trim(), setting("DBBR_TEST_SMB_PASSWORD"));

    let dir = Path::new(&setting("DBBR_TEST_SMB_ROOT")).join(&folder);
    let b = Backend {
        vars: vars.clone(),
        server_view: Box::new(move || disk_view(&dir)),
    };
    b.round_trip();
    b.fails_cleanly(
        "unreachable",
        &with_var(&vars, "RCLONE_CONFIG_STORE_PORT", &closed_port()),
        &["connection refused"],
    );
    let wrong = feed(dbbr().args(["remote", "obscure"]), b"not-the-password\n");
    assert!(wrong.status.success(), "{}", stderr(&wrong));
    let wrong = String::from_utf8(wrong.stdout).unwrap();
    b.fails_cleanly(
        "wrong password",
        &with_var(&vars, "RCLONE_CONFIG_STORE_PASS", wrong.trim()),
        &["logon is invalid"],
    );
    b.aborted_upload_leaves_nothing(|view, _| view.iter().any(|f| f.ends_with(".partial")));
}

#[test]
fn backends_obscure_reads_one_line_from_stdin() {
    let out = feed(
        dbbr().args(["remote", "obscure"]),
        b"pw-\xc3\xa4 with spaces\r\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let obscured = String::from_utf8(out.stdout).unwrap();
    let revealed = run_ok(Command::new("rclone").args(["reveal", obscured.trim()]));
    assert_eq!(revealed.trim_end_matches('\n'), "pw-ä with spaces");
    for (input, why) in [(&b""[..], "empty"), (&b"a\nb\n"[..], "several lines")] {
        let out = feed(dbbr().args(["remote", "obscure"]), input);
        assert_eq!(out.status.code(), Some(2), "{why}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{why}");
        assert_eq!(stderr(&out).lines().count(), 1, "{why}: {}", stderr(&out));
    }
}
