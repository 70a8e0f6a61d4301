//! The library links without the command line: with default features off,
//! none of the CLI's crates is a dependency, and a program outside the
//! workspace (`examples/library`) builds against it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates only the `dbbr` command line uses.
const CLI_CRATES: &[&str] = &[
    "clap",
    "ureq",
    "croner",
    "rpassword",
    "signal-hook",
    "tracing-subscriber",
    "chrono-tz",
    "parse-size",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

#[test]
fn without_default_features_no_cli_crate_is_a_dependency() {
    let out = cargo()
        .current_dir(root())
        .args(["tree", "--offline", "-p", "dbbr", "--no-default-features"])
        .args(["-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tree.lines().any(|l| l.starts_with("age ")), "{tree}");
    let found: Vec<&str> = tree
        .lines()
        .filter(|l| CLI_CRATES.iter().any(|c| l.starts_with(&format!("{c} "))))
        .collect();
    assert!(found.is_empty(), "CLI crates in the library: {found:?}");
}

#[test]
fn a_program_outside_the_workspace_builds_with_default_features_off() {
    let dir = tempfile::tempdir().unwrap();
    let example = root().join("examples/library");
    let manifest = std::fs::read_to_string(example.join("Cargo.toml"))
        .unwrap()
        .replace(
            r#"path = "../..""#,
            &format!("path = {:?}", root().display().to_string()),
        );
    assert!(manifest.contains("default-features = false"), "{manifest}");
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::copy(example.join("src/main.rs"), dir.path().join("src/main.rs")).unwrap();
    // The workspace's lock file: the same versions, resolved offline.
    std::fs::copy(root().join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();

    let target = target_dir();
    let mut build = cargo();
    build
        .current_dir(dir.path())
        .args(["build", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", target.join("library-example"));
    // The Go archive this test's build made: the example need not build
    // rclone again.
    if let Some(archive) = built_archive(&target) {
        build.env("LIBRCLONE_ARCHIVE", archive);
    }
    let out = build.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let program = target.join("library-example/debug/dbbr-library-example");
    let out = Command::new(program).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}

/// Cargo's target directory (this test runs from `target/debug/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// The newest `librclone.a` below the target directory's debug build.
fn built_archive(target: &Path) -> Option<PathBuf> {
    std::fs::read_dir(target.join("debug/build"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("out/librclone.a"))
        .filter(|a| a.is_file() && a.with_file_name("librclone.h").is_file())
        .max_by_key(|a| a.metadata().and_then(|m| m.modified()).ok())
}
