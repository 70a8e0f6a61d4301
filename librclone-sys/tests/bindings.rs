//! The committed `src/bindings.rs` must be what bindgen generates from the
//! header of the archive this crate links (`LIBRCLONE_HEADER`, set by
//! build.rs), with the settings in `bindgen_config.rs`.

use std::{env, fs, path::Path};

include!("../bindgen_config.rs");

/// How to bring src/bindings.rs up to date.
const REGENERATE: &str = "DBBR_REGENERATE_BINDINGS=1 cargo test -p librclone-sys --test bindings";

#[test]
fn committed_bindings_match_the_header() {
    let header = env!("LIBRCLONE_HEADER");
    // bindgen panics when it cannot load libclang.
    let generated = std::panic::catch_unwind(|| bindings_builder(header).generate())
        .unwrap_or_else(|_| {
            panic!("bindgen could not load libclang: install it (Debian: libclang-dev) or set LIBCLANG_PATH")
        })
        .unwrap_or_else(|e| panic!("bindgen failed on {header}: {e}"))
        .to_string();
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bindings.rs");
    if env::var_os("DBBR_REGENERATE_BINDINGS").is_some() {
        fs::write(&committed_path, &generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", committed_path.display()));
        return;
    }
    let committed = fs::read_to_string(&committed_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", committed_path.display()));
    assert!(
        committed == generated,
        "src/bindings.rs does not match the C API in {header}: regenerate it with `{REGENERATE}` and commit it"
    );
}
