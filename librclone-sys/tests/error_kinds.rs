//! The error kinds the Go side can hand out (`errorKind` constants in
//! `go/errors.go`) must be exactly those `error_kind::ALL` lists.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use librclone_sys::error_kind;

/// The values of the `errorKind` constants in Go source: lines of the form
/// `kindName errorKind = "value"`, however gofmt aligned them.
fn go_kinds(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (_name, ty, eq, value) =
                (words.next()?, words.next()?, words.next()?, words.next()?);
            if ty != "errorKind" || eq != "=" {
                return None;
            }
            Some(value.strip_prefix('"')?.strip_suffix('"')?.to_string())
        })
        .collect()
}

#[test]
fn go_error_kinds_match_error_kind_all() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("go/errors.go");
    let source =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let go: Vec<String> = go_kinds(&source);
    let go_set: BTreeSet<&str> = go.iter().map(String::as_str).collect();
    let rust_set: BTreeSet<&str> = error_kind::ALL.iter().copied().collect();

    assert_eq!(
        go.len(),
        go_set.len(),
        "go/errors.go defines a kind twice: {go:?}"
    );
    assert_eq!(
        error_kind::ALL.len(),
        rust_set.len(),
        "error_kind::ALL lists a kind twice"
    );
    assert_eq!(
        go_set, rust_set,
        "go/errors.go's errorKind constants and error_kind::ALL in src/lib.rs differ: change them together"
    );
}

#[test]
fn go_kinds_reads_only_typed_kind_constants() {
    let source = "const (\n\tkindA errorKind = \"a\" // note\n\tother = \"b\"\n)\n\
                  var k errorKind\n\tkindC   errorKind = \"c\"\n";
    assert_eq!(go_kinds(source), ["a", "c"]);
}
