//! The library's modules form layers that read bottom-up: a module uses
//! only modules of its own layer or the layers below it, and the modules
//! of one layer never import each other in a ring. This test reads every
//! `crate::` path in `src/` (the binary aside) and fails on an upward
//! import, a ring, or a module missing from [`LAYERS`]. The `dbbr`
//! binary's modules (`src/bin/dbbr/`) are checked the same way against
//! [`BIN_LAYERS`], and its commands import no other command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The library's layers, lowest first.
const LAYERS: &[&[&str]] = &[
    // Ground: the error type, the secret list, the interrupt flag, and
    // helpers that know nothing of storage or databases.
    &[
        "error",
        "redact",
        "interrupt",
        "duration",
        "run_id",
        "log_file",
        "naming",
        "pool",
        "client_stop",
    ],
    // The embedded rclone, behind its one unsafe module.
    &["ffi"],
    &["storage"],
    // Child processes: their environment and lookup.
    &["dump"],
    // Databases, what a dump holds, and the codecs.
    &["engine", "evidence", "encode"],
    &["decode"],
    // The on-disk format.
    &["manifest"],
    &["catalog", "retention", "config"],
    &["leftovers"],
    &["prune"],
    &["report"],
    // Opening a stored backup to read it back.
    &["stored"],
    // The operations on backups.
    &["backup", "restore"],
    &["verify", "check"],
    // What only the command line uses.
    &["diagnostics", "cli"],
];

/// The `dbbr` binary's commands: each is a leaf above the helpers and
/// flag groups, importing no other command (the backup job above them
/// sequences the ones it runs).
const BIN_COMMANDS: &[&str] = &[
    "backup_cmd",
    "check_cmd",
    "list_cmd",
    "prune_cmd",
    "remote_cmd",
    "restore_cmd",
    "verify_cmd",
];

/// The `dbbr` binary's layers, lowest first; `main` on top.
const BIN_LAYERS: &[&[&str]] = &[
    // Ground: text on one line, the settings' names, logs, HTTP,
    // schedules, run summaries, how a command ended, and the flags that
    // need nothing else.
    &[
        "show",
        "settings",
        "logging",
        "http",
        "schedule",
        "summary",
        "outcome",
        "engine_args",
        "identity",
    ],
    // Flag groups, metrics and notifications.
    &["storage_args", "keep_args", "metrics", "notify"],
    &["metrics_out"],
    // The backup job's operations flags, then the backup's own.
    &["ops_args"],
    &["backup_args"],
    BIN_COMMANDS,
    // The backup job: backup, prune, verify, notify, metrics, and the
    // scheduler around them.
    &["job"],
    // The reference the docs are generated from: every command's flags.
    &["reference"],
    &["main"],
];

/// The top-level modules each module's files use, by module.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_library_imports_only_downward_and_without_rings() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &src, &mut files);
    let graph = graph(&files);
    let problems = problems(&graph, LAYERS);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_binary_imports_only_downward_and_without_rings() {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin/dbbr");
    let mut files = Vec::new();
    collect(&bin, &bin, &mut files);
    assert!(files.iter().any(|(m, _)| m == "main"), "no main.rs read");
    let graph = graph(&files);
    let mut problems = problems(&graph, BIN_LAYERS);
    problems.extend(commands_importing_commands(&graph, BIN_COMMANDS));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_command_importing_a_command_is_found() {
    let files = vec![
        ("list".to_string(), "use crate::{show, prune};".to_string()),
        (
            "prune".to_string(),
            "use crate::show::one_line;".to_string(),
        ),
        ("show".to_string(), String::new()),
    ];
    let found = commands_importing_commands(&graph(&files), &["list", "prune"]);
    assert_eq!(
        found,
        ["list imports the command prune: commands are leaves"]
    );
}

#[test]
fn an_upward_import_and_a_ring_are_found() {
    let files = vec![
        (
            "error".to_string(),
            "use crate::storage::Remote;".to_string(),
        ),
        (
            "storage".to_string(),
            "use crate::{error::Error, ffi};".to_string(),
        ),
        (
            "ffi".to_string(),
            "fn f() { crate::storage::x(); }".to_string(),
        ),
    ];
    let layers: &[&[&str]] = &[&["error"], &["ffi", "storage"]];
    let found = problems(&graph(&files), layers);
    assert!(
        found.contains(&"error (layer 0) imports storage (layer 1)".to_string()),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p == "a ring: ffi -> storage -> ffi"),
        "{found:?}"
    );
    // Comments and `$crate` in macros are not imports; a missing module is.
    let files = vec![
        (
            "error".to_string(),
            "// crate::ffi\n/// [`crate::ffi`]\n$crate::ffi".to_string(),
        ),
        ("new".to_string(), String::new()),
    ];
    let found = problems(&graph(&files), &[&["error"], &["ffi"]]);
    assert_eq!(found, ["new is in no layer: add it to LAYERS"]);
}

/// Commands that import another command.
fn commands_importing_commands(graph: &Graph, commands: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for command in commands {
        for other in graph.get(*command).into_iter().flatten() {
            if commands.contains(&other.as_str()) {
                found.push(format!(
                    "{command} imports the command {other}: commands are leaves"
                ));
            }
        }
    }
    found
}

/// Every `.rs` file below `dir` as (top-level module, text), the binary
/// and `lib.rs` aside.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(root).unwrap();
        if rel.starts_with("bin") || rel == Path::new("lib.rs") {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap();
            let module = top.strip_suffix(".rs").unwrap_or(top).to_string();
            out.push((module, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// Which top-level modules each module uses through `crate::` paths,
/// grouped ones (`use crate::{a::b, c}`) included.
fn graph(files: &[(String, String)]) -> Graph {
    let mut graph = Graph::new();
    for (module, text) in files {
        let used = graph.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                if !rest[..at].ends_with('$') {
                    if let Some(group) = after.strip_prefix('{') {
                        used.extend(group_heads(group));
                    } else {
                        used.insert(ident(after));
                    }
                }
                rest = after;
            }
        }
        used.remove(module);
        used.remove("");
    }
    graph
}

/// The first identifier of each item of a `{...}` group (without its `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = vec![ident(group.trim_start())];
    let mut depth = 0;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => heads.push(ident(group[i + 1..].trim_start())),
            _ => {}
        }
    }
    heads
}

/// The identifier `text` starts with.
fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Upward imports, rings, and modules in no layer.
fn problems(graph: &Graph, layers: &[&[&str]]) -> Vec<String> {
    let layer_of = |m: &str| layers.iter().position(|l| l.contains(&m));
    let mut problems = Vec::new();
    for (module, used) in graph {
        let Some(own) = layer_of(module) else {
            problems.push(format!("{module} is in no layer: add it to LAYERS"));
            continue;
        };
        for other in used {
            match layer_of(other) {
                Some(layer) if layer > own => problems.push(format!(
                    "{module} (layer {own}) imports {other} (layer {layer})"
                )),
                _ => {}
            }
        }
    }
    problems.extend(
        rings(graph)
            .into_iter()
            .map(|r| format!("a ring: {}", r.join(" -> "))),
    );
    problems
}

/// One ring through each module that is on one, as a path back to it.
fn rings(graph: &Graph) -> Vec<Vec<String>> {
    let mut rings = Vec::new();
    let mut seen = BTreeSet::new();
    for start in graph.keys() {
        if seen.contains(start) {
            continue;
        }
        if let Some(path) = path_back(graph, start) {
            seen.extend(path.iter().cloned());
            rings.push(path);
        }
    }
    rings
}

/// A path from `start` back to itself, if there is one.
fn path_back(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut visited = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == start {
                let mut ring = path.clone();
                ring.push(start.to_string());
                return Some(ring);
            }
            if visited.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}
