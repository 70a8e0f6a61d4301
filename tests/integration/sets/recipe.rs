//! The README's recipe restores an encrypted set with rclone, age, gunzip,
//! psql and pg_restore alone, as written.

use std::process::{Command, Stdio};

use super::*;
use crate::common::pg::{Server, TestDb};

#[test]
fn the_readme_recipe_restores_a_set_with_the_standard_tools() {
    let s = Server::shared();
    let source = TestDb::create();
    fill(&s, &source.name, 30_000);
    let tmp = tempfile::tempdir().unwrap();
    let (identity, recipient) = age_key(tmp.path());
    let remote = tmp.path().join("remote");
    succeed(set_backup(&s, &source.name, &remote, "3").env("ENCRYPT_RECIPIENTS", &recipient));
    let (set, _) = the_set(&remote);
    let target = unique("setbyhand");
    let script = recipe_swapped(
        "set-by-hand",
        &[
            (
                "store:my-bucket/postgres/app-2026-12-06T01-00-00Z.set",
                remote.join(&set).to_str().unwrap(),
            ),
            ("key.txt", identity.to_str().unwrap()),
            ("app_copy", &target),
        ],
    );
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &format!("set -euo pipefail\n{script}")])
        .current_dir(&work)
        .stdin(Stdio::null());
    let out = run(s.env(&mut cmd));
    let restored = TestDb { name: target };
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(checksums(&s, &restored.name), checksums(&s, &source.name));
    assert_eq!(schema(&s, &restored.name), schema(&s, &source.name));
}
