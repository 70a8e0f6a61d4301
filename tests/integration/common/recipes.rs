//! The documentation's shell examples, run as written: a block marked
//! `<!-- recipe: NAME -->` in README.md or a page of docs/ is evaluated by
//! bash with the test servers' values swapped in for the example ones, and
//! the variables it exports are what a test gives dbbr (the examples that
//! run commands are run by `docs_examples`). The documentation stays the
//! source of truth.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::stderr;

/// README.md and the pages of docs/, the files that hold recipes.
pub fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    files.extend(pages);
    files
}

/// The text of the fenced block after `<!-- recipe: NAME -->`, in whichever
/// documentation file has it (exactly one must).
pub fn recipe_text(name: &str) -> String {
    let marker = format!("<!-- recipe: {name} -->");
    let mut found: Vec<(PathBuf, String)> = doc_files()
        .into_iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            let after = text.split_once(&marker)?.1.to_string();
            Some((file, after))
        })
        .collect();
    assert!(
        found.len() == 1 && found[0].1.matches(&marker).count() == 0,
        "`{marker}` must be in exactly one place of README.md and docs/*.md, found in {:?}",
        found.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    let (file, after) = found.pop().unwrap();
    let block = after
        .trim_start()
        .strip_prefix("```sh\n")
        .unwrap_or_else(|| {
            panic!(
                "`{marker}` in {} is not followed by a ```sh block",
                file.display()
            )
        });
    block.split_once("\n```").unwrap().0.to_string()
}

/// The text of recipe `name` with each example value `from` replaced by
/// `to` (every one must occur: an example value the documentation no longer
/// has fails the test).
pub fn recipe_swapped(name: &str, swaps: &[(&str, &str)]) -> String {
    let mut text = recipe_text(name);
    for (from, to) in swaps {
        assert!(
            text.contains(from),
            "recipe {name} no longer has {from:?}:\n{text}"
        );
        text = text.replace(from, to);
    }
    text
}

/// The variables the recipe `name` exports, with the example values
/// swapped first (see [`recipe_swapped`]). `dbbr` in the recipe
/// is the binary under test.
pub fn recipe(name: &str, swaps: &[(&str, &str)]) -> Vec<(String, String)> {
    let text = recipe_swapped(name, swaps);
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
