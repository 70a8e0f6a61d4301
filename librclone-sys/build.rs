//! Builds rclone (every backend) and dbbr's Go API in `go/` as a static
//! archive with `go build -buildmode=c-archive` and links it. Needs Go and a
//! C compiler, nothing else.
//!
//! The Rust bindings are committed in `src/bindings.rs`. The header Go writes
//! (`librclone.h`) is passed to the tests as `LIBRCLONE_HEADER`, and
//! `tests/bindings.rs` fails when the committed bindings no longer match it;
//! `DBBR_REGENERATE_BINDINGS=1 cargo test -p librclone-sys --test bindings`
//! rewrites them. With the cargo feature `bindgen` this script generates
//! them from the header instead (needs libclang), with the same settings
//! (`bindgen_config.rs`).
//!
//! `LIBRCLONE_ARCHIVE=/path/to/librclone.a` links a prebuilt archive instead
//! (its `librclone.h` must sit next to it): for container builds and offline
//! machines.
//!
//! Go builds for Cargo's target, not the build machine: `GOOS`/`GOARCH` come
//! from `CARGO_CFG_TARGET_OS`/`_ARCH`, the C compiler from `CC_<target>` or
//! `TARGET_CC` (the `cc` crate's conventions), so `cargo build --target
//! aarch64-unknown-linux-gnu` on amd64 cross-compiles rclone too.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

include!("go_target.rs");

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let go_dir = manifest_dir.join("go");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=bindgen_config.rs");
    println!("cargo:rerun-if-changed=go_target.rs");
    println!("cargo:rerun-if-changed=go");
    println!("cargo:rerun-if-env-changed=LIBRCLONE_ARCHIVE");

    let rclone_version = rclone_version(&go_dir.join("go.mod"));
    let archive = match env::var_os("LIBRCLONE_ARCHIVE") {
        Some(prebuilt) => {
            let prebuilt = PathBuf::from(prebuilt);
            if !prebuilt.is_file() || !prebuilt.with_file_name("librclone.h").is_file() {
                fail(&format!(
                    "LIBRCLONE_ARCHIVE={} must name a librclone.a with librclone.h next to it",
                    prebuilt.display()
                ));
            }
            prebuilt
        }
        None => go_build(&go_dir, &out_dir, &rclone_version),
    };
    let lib_dir = archive.parent().unwrap();
    if archive.file_name().unwrap() != "librclone.a" {
        fail("LIBRCLONE_ARCHIVE must name a file called librclone.a");
    }

    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=static=rclone");
    // What the Go runtime and its cgo net/user packages need from libc.
    for lib in ["pthread", "dl", "m", "resolv"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:rustc-env=LIBRCLONE_VERSION={rclone_version}");
    println!("cargo:version={rclone_version}");

    let header = archive.with_file_name("librclone.h");
    println!("cargo:rustc-env=LIBRCLONE_HEADER={}", header.display());
    #[cfg(feature = "bindgen")]
    generate_bindings(&header, &out_dir);
}

/// The rclone version required in go.mod, e.g. "v1.76.0".
fn rclone_version(go_mod: &Path) -> String {
    let text = fs::read_to_string(go_mod)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", go_mod.display())));
    text.lines()
        .map(str::trim)
        .map(|l| l.trim_start_matches("require").trim())
        .find_map(|l| l.strip_prefix("github.com/rclone/rclone "))
        .map(|v| v.split_whitespace().next().unwrap_or_default().to_string())
        .unwrap_or_else(|| fail("go.mod does not require github.com/rclone/rclone"))
}

/// Runs `go build -buildmode=c-archive` and returns the archive's path.
fn go_build(go_dir: &Path, out_dir: &Path, rclone_version: &str) -> PathBuf {
    let go = env::var("GO").unwrap_or_else(|_| "go".to_string());
    println!("cargo:rerun-if-env-changed=GO");
    check_go_version(&go, go_dir);

    let archive = out_dir.join("librclone.a");
    let ldflags = format!("-s -w -X github.com/rclone/rclone/fs.Version={rclone_version}");
    let cargo = |name: &str| env::var(name).unwrap_or_default();
    let target = cargo("TARGET");
    let (goos, goarch, goarm) = go_target(
        &cargo("CARGO_CFG_TARGET_OS"),
        &cargo("CARGO_CFG_TARGET_ARCH"),
        &cargo("CARGO_CFG_TARGET_ENDIAN"),
        &target,
    )
    .unwrap_or_else(|e| fail(&e));
    for name in c_compiler_vars(&target) {
        println!("cargo:rerun-if-env-changed={name}");
    }
    let mut command = Command::new(&go);
    command.env("GOOS", goos).env("GOARCH", goarch);
    if let Some(goarm) = goarm {
        command.env("GOARM", goarm);
    }
    if let Some(cc) = c_compiler(&target, &cargo("HOST"), |name| env::var(name).ok()) {
        command.env("CC", cc);
    }
    let status = command
        .current_dir(go_dir)
        .args([
            "build",
            "-trimpath",
            "-buildvcs=false",
            "-buildmode=c-archive",
            "-ldflags",
            &ldflags,
            "-o",
        ])
        .arg(&archive)
        .arg(".")
        .env("CGO_ENABLED", "1")
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run `{go}`: {e}")));
    if !status.success() {
        fail(&format!(
            "`go build` of librclone failed ({status}). If a module could not be downloaded, check \
             GOPROXY/network access or build with LIBRCLONE_ARCHIVE=/path/to/librclone.a; \
             if cgo failed, install a C compiler (gcc)"
        ));
    }
    archive
}

/// Fails unless `go` runs and is at least the version go.mod asks for.
fn check_go_version(go: &str, go_dir: &Path) {
    let out = Command::new(go)
        .arg("version")
        .output()
        .unwrap_or_else(|e| {
            fail(&format!(
                "Go is needed to build librclone but `{go} version` failed: {e}. Install Go \
             (https://go.dev/dl) or set LIBRCLONE_ARCHIVE to a prebuilt librclone.a"
            ))
        });
    let text = String::from_utf8_lossy(&out.stdout);
    let have = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("go1."))
        .map(parse_minor)
        .unwrap_or_else(|| fail(&format!("cannot read Go's version from `{}`", text.trim())));
    let go_mod = fs::read_to_string(go_dir.join("go.mod")).unwrap_or_default();
    let want = go_mod
        .lines()
        .find_map(|l| l.trim().strip_prefix("go 1."))
        .map(parse_minor)
        .unwrap_or((0, 0));
    if have < want {
        fail(&format!(
            "Go 1.{}.{} is too old to build librclone: go.mod needs Go 1.{}.{} or newer",
            have.0, have.1, want.0, want.1
        ));
    }
}

/// "26.8" -> (26, 8); "26" -> (26, 0).
fn parse_minor(v: &str) -> (u32, u32) {
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (minor, patch)
}

#[cfg(feature = "bindgen")]
include!("bindgen_config.rs");

/// Writes `$OUT_DIR/bindings.rs` from the header (feature `bindgen`).
#[cfg(feature = "bindgen")]
fn generate_bindings(header: &Path, out_dir: &Path) {
    let header_name = header.to_string_lossy().into_owned();
    // bindgen panics when it cannot load libclang: turn that into advice.
    let generated = std::panic::catch_unwind(|| bindings_builder(&header_name).generate())
        .unwrap_or_else(|_| {
            fail(
                "bindgen could not load libclang: install it (Debian: apt-get install \
                 libclang-dev) or set LIBCLANG_PATH, or build without the `bindgen` feature",
            )
        });
    let bindings = generated.unwrap_or_else(|e| {
        fail(&format!(
            "bindgen failed on {}: {e}. bindgen needs libclang: install it (Debian: \
             apt-get install libclang-dev) or set LIBCLANG_PATH",
            header.display()
        ))
    });
    bindings
        .write_to_file(out_dir.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings: {e}")));
}

fn fail(message: &str) -> ! {
    eprintln!("error: librclone-sys: {message}");
    std::process::exit(1)
}
