// Included by build.rs and by tests/go_target.rs: the Go target and the C
// compiler for the Cargo target being built, so that a cross build (a
// container image for linux/arm64 built on amd64) builds rclone for the
// target, not for the build machine.

/// `GOOS`, `GOARCH` and, for 32-bit ARM, `GOARM` for a Cargo target, from
/// Cargo's `CARGO_CFG_TARGET_OS`, `_ARCH` and `_ENDIAN` and the target
/// triple.
pub fn go_target(
    os: &str,
    arch: &str,
    endian: &str,
    triple: &str,
) -> Result<(&'static str, &'static str, Option<&'static str>), String> {
    let goos = match os {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "windows",
        "freebsd" => "freebsd",
        "netbsd" => "netbsd",
        "openbsd" => "openbsd",
        "dragonfly" => "dragonfly",
        "illumos" => "illumos",
        "solaris" => "solaris",
        "android" => "android",
        "ios" => "ios",
        other => return Err(format!("Go has no GOOS for the target OS `{other}`")),
    };
    let little = endian != "big";
    let goarch = match arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if little => "mips64le",
        "mips64" => "mips64",
        "mips" if little => "mipsle",
        "mips" => "mips",
        other => return Err(format!("Go has no GOARCH for the target arch `{other}`")),
    };
    let goarm = (goarch == "arm").then(|| {
        if triple.starts_with("armv7") || triple.starts_with("thumbv7") {
            "7"
        } else if triple.starts_with("armv5") {
            "5"
        } else {
            "6"
        }
    });
    Ok((goos, goarch, goarm))
}

/// The C compiler for `target`, as the `cc` crate finds it: `CC_<target>`,
/// `CC_<target_with_underscores>`, then `TARGET_CC` when cross-compiling,
/// then `CC`. A cross build of a `*-linux-gnu` target with none of these set
/// gets Debian's cross compiler name (`aarch64-linux-gnu-gcc`). `None`: let
/// Go use its default.
pub fn c_compiler(
    target: &str,
    host: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let cross = target != host;
    let mut names = vec![
        format!("CC_{target}"),
        format!("CC_{}", target.replace('-', "_")),
    ];
    if cross {
        names.push("TARGET_CC".to_string());
    }
    names.push("CC".to_string());
    if let Some(cc) = names
        .iter()
        .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
    {
        return Some(cc);
    }
    let (arch, rest) = target.split_once('-')?;
    (cross && rest.ends_with("-linux-gnu")).then(|| format!("{arch}-linux-gnu-gcc"))
}

/// The variables [`c_compiler`] reads for `target`, for
/// `cargo:rerun-if-env-changed`.
pub fn c_compiler_vars(target: &str) -> [String; 4] {
    [
        format!("CC_{target}"),
        format!("CC_{}", target.replace('-', "_")),
        "TARGET_CC".to_string(),
        "CC".to_string(),
    ]
}
