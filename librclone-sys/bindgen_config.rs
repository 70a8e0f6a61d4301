// The one bindgen configuration for librclone's header, shared by build.rs
// (feature `bindgen`) and tests/bindings.rs (which checks that the
// committed src/bindings.rs is what it generates). Both `include!` this
// file, so it may only hold items.

/// The bindgen builder that turns `header` (the `librclone.h` that
/// `go build -buildmode=c-archive` writes) into src/bindings.rs: dbbr's C
/// API only, formatted the same way wherever it runs.
fn bindings_builder(header: &str) -> bindgen::Builder {
    bindgen::Builder::default()
        .header(header)
        .allowlist_function("Dbbr.*")
        .allowlist_type("dbbr_log_fn")
        .formatter(bindgen::Formatter::Prettyplease)
}
