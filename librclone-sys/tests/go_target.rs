//! The build script's mapping from Cargo's target to Go's (`go_target.rs`).

#[path = "../go_target.rs"]
mod go_target;

use go_target::{c_compiler, c_compiler_vars, go_target};

#[test]
fn cargo_targets_map_to_go_targets() {
    let linux = |arch, endian, triple| go_target("linux", arch, endian, triple).unwrap();
    assert_eq!(
        linux("x86_64", "little", "x86_64-unknown-linux-gnu"),
        ("linux", "amd64", None)
    );
    assert_eq!(
        linux("aarch64", "little", "aarch64-unknown-linux-gnu"),
        ("linux", "arm64", None)
    );
    assert_eq!(
        linux("arm", "little", "armv7-unknown-linux-gnueabihf"),
        ("linux", "arm", Some("7"))
    );
    assert_eq!(
        linux("arm", "little", "arm-unknown-linux-gnueabi"),
        ("linux", "arm", Some("6"))
    );
    assert_eq!(
        linux("powerpc64", "little", "powerpc64le-unknown-linux-gnu"),
        ("linux", "ppc64le", None)
    );
    assert_eq!(
        linux("powerpc64", "big", "powerpc64-unknown-linux-gnu").1,
        "ppc64"
    );
    assert_eq!(linux("s390x", "big", "s390x-unknown-linux-gnu").1, "s390x");
    assert_eq!(
        go_target("macos", "aarch64", "little", "aarch64-apple-darwin").unwrap(),
        ("darwin", "arm64", None)
    );
    assert_eq!(
        go_target("windows", "x86_64", "little", "x86_64-pc-windows-gnu").unwrap(),
        ("windows", "amd64", None)
    );
}

#[test]
fn unknown_targets_are_refused_by_name() {
    let err = go_target("uefi", "x86_64", "little", "x86_64-unknown-uefi").unwrap_err();
    assert!(err.contains("uefi"), "{err}");
    let err = go_target("linux", "sparc64", "big", "sparc64-unknown-linux-gnu").unwrap_err();
    assert!(err.contains("sparc64"), "{err}");
}

#[test]
fn the_c_compiler_follows_the_cc_crate_conventions() {
    let arm = "aarch64-unknown-linux-gnu";
    let amd = "x86_64-unknown-linux-gnu";
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    // The most specific variable wins.
    let vars = env(&[
        ("CC", "cc"),
        ("TARGET_CC", "target-cc"),
        ("CC_aarch64_unknown_linux_gnu", "underscored"),
        ("CC_aarch64-unknown-linux-gnu", "dashed"),
    ]);
    assert_eq!(c_compiler(arm, amd, vars).as_deref(), Some("dashed"));
    let vars = env(&[
        ("CC", "cc"),
        ("TARGET_CC", "target-cc"),
        ("CC_aarch64_unknown_linux_gnu", "u"),
    ]);
    assert_eq!(c_compiler(arm, amd, vars).as_deref(), Some("u"));
    let vars = env(&[("CC", "cc"), ("TARGET_CC", "target-cc")]);
    assert_eq!(c_compiler(arm, amd, vars).as_deref(), Some("target-cc"));
    // TARGET_CC is for cross builds only; CC is the last resort.
    let vars = env(&[("CC", "cc"), ("TARGET_CC", "target-cc")]);
    assert_eq!(c_compiler(amd, amd, vars).as_deref(), Some("cc"));
    // Nothing set: Debian's cross compiler when cross-compiling, else Go's default.
    assert_eq!(
        c_compiler(arm, amd, env(&[])).as_deref(),
        Some("aarch64-linux-gnu-gcc")
    );
    assert_eq!(c_compiler(amd, amd, env(&[])), None);
    assert_eq!(c_compiler("aarch64-apple-darwin", amd, env(&[])), None);
    let vars = c_compiler_vars(arm);
    assert!(vars.contains(&"CC_aarch64_unknown_linux_gnu".to_string()));
    assert!(vars.contains(&"TARGET_CC".to_string()));
}
