//! The README's storage recipes, run as written: a block marked
//! `<!-- recipe: NAME -->` is evaluated by bash with the test servers'
//! values swapped in for the example ones, and the variables it exports are
//! what a test gives dbbr. The README stays the source of truth.

use std::path::Path;
use std::process::{Command, Stdio};

use super::stderr;

/// The text of the README's fenced block after `<!-- recipe: NAME -->`.
pub fn recipe_text(name: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = format!("<!-- recipe: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no `{marker}`"))
        .1;
    let block = after
        .trim_start()
        .strip_prefix("```sh\n")
        .unwrap_or_else(|| panic!("`{marker}` is not followed by a ```sh block"));
    block.split_once("\n```").unwrap().0.to_string()
}

/// The variables the README's recipe `name` exports, with each example
/// value `from` replaced by `to` first (every one must occur: an example
/// value the README no longer has fails the test). `dbbr` in the recipe
/// is the binary under test.
pub fn recipe(name: &str, swaps: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut text = recipe_text(name);
    for (from, to) in swaps {
        assert!(
            text.contains(from),
            "recipe {name} no longer has {from:?}:\n{text}"
        );
        text = text.replace(from, to);
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_dbbr")).parent().unwrap();
    let out = Command::new("bash")
        .args(["-c", &format!("set -euo pipefail\n{text}\nenv -0")])
        .env_clear()
        .env("PATH", super::path_with(bin))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "recipe {name}: {}", stderr(&out));
    out.stdout
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8(entry.to_vec()).unwrap();
            let (k, v) = entry.split_once('=')?;
            let exported = !["PATH", "PWD", "SHLVL", "_", "OLDPWD"].contains(&k);
            exported.then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// `vars` with the value of `key` replaced by `value` (which must be set).
pub fn with_var(vars: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    assert!(vars.iter().any(|(k, _)| k == key), "{key} is not set");
    vars.iter()
        .map(|(k, v)| {
            let v = if k == key {
                value.to_string()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}
