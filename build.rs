//! Links the `dbbr` executable position-dependent on Linux. The embedded Go
//! runtime brings about 430,000 pointers in read-only data: as a position-
//! independent executable, the loader reads 10 MB of relocations and writes
//! 11 MB of pages at every start, which stay resident (a fifth of the
//! process's memory). At fixed addresses there is nothing to relocate.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
