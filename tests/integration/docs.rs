//! The documentation, checked: docs/reference.md is what `dbbr reference`
//! prints; the shell examples that run commands are run as written against
//! the test servers (the storage recipes, which only export settings, are
//! run by `backend_*`); every shell example in README.md and docs/ is
//! either run by a test or says why not; and the links lead somewhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::pg::{backup_to, Server, TestDb};
use crate::common::*;

/// How to bring docs/reference.md up to date.
const REGENERATE: &str = "cargo run --bin dbbr -- reference > docs/reference.md";

/// docs/reference.md is what `dbbr reference` prints from the command
/// line's definitions: a flag, variable, default or help text changed
/// without regenerating it fails here.
#[test]
fn reference_md_is_current() {
    let out = dbbr()
        .arg("reference")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "dbbr reference: {}", stderr(&out));
    let generated = String::from_utf8(out.stdout).unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    if generated != committed {
        let first = generated
            .lines()
            .zip(committed.lines())
            .position(|(g, c)| g != c)
            .unwrap_or_else(|| generated.lines().count().min(committed.lines().count()));
        panic!(
            "docs/reference.md is stale: the command line's flags, variables or help texts \
             changed. Regenerate it with `{REGENERATE}` and commit it.\n\
             First difference, line {}:\n  generated: {:?}\n  committed: {:?}",
            first + 1,
            generated.lines().nth(first).unwrap_or("(end)"),
            committed.lines().nth(first).unwrap_or("(end)"),
        );
    }
}

/// bash running `script` (with `set -euo pipefail`) in a clean environment:
/// the binary under test first on PATH, `home` as HOME, and no password
/// file of libpq's own that could stand in for the example's.
fn shell(script: &str, home: &Path) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_dbbr")).parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &format!("set -euo pipefail\n{script}")])
        .env_clear()
        .env("PATH", path_with(bin))
        .env("HOME", home)
        .env("PGPASSFILE", "/nonexistent/dbbr-test-pgpass")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null());
    cmd
}

/// `path` as text, for a swap.
fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The README's example, as written: a backup of two databases to S3 with
/// the AWS SDK's credentials (the S3 test server standing in for AWS),
/// encrypted to a recipients file, then `list`, `verify` and a restore
/// into a new database, which must hold what the source holds.
#[test]
fn recipes_readme_backup_verify_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, billing) = (TestDb::sample(), TestDb::small());
    let copy = TestDb {
        name: format!("{}_copy", app.name),
    };
    let server = Server::shared();
    let (identity, recipient) = age_key(tmp.path());
    let recipients = tmp.path().join("recipients.txt");
    std::fs::write(&recipients, format!("# the backup key\n{recipient}\n")).unwrap();
    let password = tmp.path().join("pgpassword");
    write_private(&password, &setting("DBBR_TEST_PG_PASSWORD"));
    let bucket = unique("readme");

    let store = format!(
        "RCLONE_CONFIG_STORE_PROVIDER=Other RCLONE_CONFIG_STORE_ENDPOINT={}",
        setting("DBBR_TEST_S3C_ENDPOINT")
    );
    let databases = format!("{},{}", app.name, billing.name);
    let host = format!("PGHOST={} PGPORT={}", server.host, server.port);
    let user = format!("PGUSER={}", server.user);
    let backup = recipe_swapped(
        "readme-backup",
        &[
            ("RCLONE_CONFIG_STORE_PROVIDER=AWS", &store),
            ("my-bucket", &bucket),
            ("app,billing", &databases),
            ("PGHOST=db.example", &host),
            ("PGUSER=backup", &user),
            ("/run/secrets/pgpassword", text(&password)),
            ("/etc/dbbr/recipients.txt", text(&recipients)),
        ],
    );
    let latest = format!("--latest {}", app.name);
    let restore = recipe_swapped(
        "readme-restore",
        &[
            ("/etc/dbbr/identity.txt", text(&identity)),
            ("--latest app", &latest),
            ("app_copy", &copy.name),
        ],
    );
    let out = run(shell(&format!("{backup}\n{restore}"), tmp.path())
        .env("AWS_ACCESS_KEY_ID", setting("DBBR_TEST_S3C_ACCESS_KEY"))
        .env("AWS_SECRET_ACCESS_KEY", setting("DBBR_TEST_S3C_SECRET_KEY")));
    let (stdout, errors) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(out.status.success(), "{stdout}\n{errors}");

    let stored = files_below(&s3c_bucket_dir(&bucket).join("postgres"));
    for db in [&app.name, &billing.name] {
        let prefix = format!("{db}-");
        let objects: Vec<_> = stored
            .iter()
            .filter(|f| f.starts_with(&prefix) && f.ends_with(".sql.gz.age"))
            .collect();
        assert_eq!(objects.len(), 1, "{stored:?}");
        assert!(stdout.contains(objects[0].as_str()), "list: {stdout}");
    }
    assert_eq!(server.checksums(&copy.name), app.checksums());
}

/// docs/restore-and-verify.md's restore by hand, as written: `dbbr remote
/// cat` of an encrypted backup, `age -d`, `gunzip` and `psql`.
#[test]
fn recipes_restore_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, target) = (TestDb::sample(), TestDb::create());
    let (identity, recipient) = age_key(tmp.path());
    let remote = tmp.path().join("remote");
    succeed(
        backup_to(&remote)
            .env("BACKUP_DATABASES", &source.name)
            .env("ENCRYPT_RECIPIENTS", &recipient),
    );
    let object = only_object(&remote);
    assert!(object.ends_with(".sql.gz.age"), "{object}");
    let psql = format!("psql -d {}", target.name);
    let script = recipe_swapped(
        "restore-by-hand",
        &[
            ("app-2026-11-30T02-00-00Z.sql.gz.age", &object),
            ("key.txt", text(&identity)),
            ("psql -d app", &psql),
        ],
    );
    let mut cmd = shell(&script, tmp.path());
    Server::shared().env(&mut cmd);
    let out = run(cmd.env("REMOTE_NAME", local_remote(&remote)));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(target.checksums(), source.checksums());
}

/// docs/storage.md's `dbbr remote obscure`, as written: it prints what
/// rclone reveals as the password read from the file.
#[test]
fn recipes_remote_obscure() {
    let tmp = tempfile::tempdir().unwrap();
    let password = tmp.path().join("smb-password");
    write_private(&password, "pa ss-wörd 42\n");
    let script = recipe_swapped(
        "remote-obscure",
        &[("/run/secrets/smb-password", text(&password))],
    );
    let out = run(&mut shell(&script, tmp.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    let obscured = String::from_utf8(out.stdout).unwrap();
    assert!(!obscured.contains("pa ss"), "{obscured}");
    let revealed = run_ok(Command::new("rclone").args(["reveal", obscured.trim()]));
    assert_eq!(revealed.trim_end_matches('\n'), "pa ss-wörd 42");
}

/// The recipe names the integration tests' sources mention (as a string
/// literal), read from every `.rs` file below tests/integration.
fn names_in_tests() -> String {
    fn walk(dir: &Path, text: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, text);
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut text = String::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration"),
        &mut text,
    );
    text
}

/// Every ```sh block of README.md and docs/ follows a marker: `<!-- recipe:
/// NAME -->` for the examples a test runs (and some test names NAME), or
/// `<!-- not run: WHY -->` for those the test servers cannot run.
#[test]
fn recipes_every_shell_example_is_run_or_says_why() {
    let sources = names_in_tests();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut previous = "";
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```sh") {
                let marker = previous.trim();
                if let Some(name) = marker
                    .strip_prefix("<!-- recipe: ")
                    .and_then(|m| m.strip_suffix(" -->"))
                {
                    if !names.insert(name.to_string()) {
                        problems.push(format!("{shown}:{}: recipe {name} again", n + 1));
                    }
                    if !sources.contains(&format!("\"{name}\"")) {
                        problems.push(format!("{shown}:{}: no test runs {name}", n + 1));
                    }
                } else if !(marker.starts_with("<!-- not run: ") && marker.ends_with(" -->")) {
                    problems.push(format!(
                        "{shown}:{}: a ```sh block with neither `<!-- recipe: NAME -->` \
                         nor `<!-- not run: WHY -->` before it",
                        n + 1
                    ));
                }
            }
            if !line.trim().is_empty() {
                previous = line;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(names.len() >= 13, "{names:?}");
}

/// The anchor GitHub gives a Markdown heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of the headings of Markdown file `file`.
fn anchors(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every relative link of README.md and docs/ leads to a file that exists
/// and, with `#anchor`, to one of its headings.
#[test]
fn docs_links_resolve() {
    let mut problems = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file.file_name().unwrap().to_string_lossy().into_owned();
        for (_, rest) in text.match_indices("](").map(|(i, _)| text.split_at(i + 2)) {
            let Some(target) = rest.split(')').next() else {
                continue;
            };
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let linked: PathBuf = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !linked.exists() {
                problems.push(format!("{shown}: {target}: no such file"));
            } else if !anchor.is_empty() && !anchors(&linked).contains(anchor) {
                problems.push(format!("{shown}: {target}: no such heading"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
