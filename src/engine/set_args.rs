//! The dump arguments a parallel backup set cannot honour: a set is plain
//! SQL cut into sections at one snapshot of dbbr's own, so arguments that
//! choose another format, section, snapshot or way of writing rows are
//! refused before any I/O. Arguments that select objects (`-t`, `-T`, `-n`,
//! `-N`, `--exclude-table-data`, ...) and those that leave things out
//! (`-O`, `-x`, `--no-comments`, ...) apply to the set as to `pg_dump`.

use super::argv::spelled_out;
use crate::error::{Error, Result, Setting};

/// Long options a set refuses, with the short form and why.
const REFUSED: &[(&str, Option<char>, &str)] = &[
    ("--format", Some('F'), "a set is plain SQL"),
    ("--compress", Some('Z'), "a set is compressed by dbbr"),
    ("--jobs", Some('j'), "a set has its own jobs"),
    ("--schema-only", Some('s'), "a set holds data"),
    ("--data-only", Some('a'), "a set holds the schema"),
    ("--section", None, "a set holds every section"),
    ("--no-data", None, "a set holds data"),
    ("--no-schema", None, "a set holds the schema"),
    ("--statistics-only", None, "a set holds data"),
    (
        "--create",
        Some('C'),
        "a set restores into a new or empty database",
    ),
    (
        "--clean",
        Some('c'),
        "a set restores into a new or empty database",
    ),
    ("--inserts", None, "a set writes rows as COPY"),
    ("--column-inserts", None, "a set writes rows as COPY"),
    ("--attribute-inserts", None, "a set writes rows as COPY"),
    ("--rows-per-insert", None, "a set writes rows as COPY"),
    (
        "--load-via-partition-root",
        None,
        "a set copies each partition",
    ),
    (
        "--disable-triggers",
        None,
        "a set restores the schema first",
    ),
    ("--snapshot", None, "a set takes its own snapshot"),
    (
        "--serializable-deferrable",
        None,
        "a set takes its own snapshot",
    ),
    (
        "--no-synchronized-snapshots",
        None,
        "a set shares one snapshot",
    ),
    ("--enable-row-security", None, "a set copies every row"),
    ("--role", None, "a set's sessions connect as the user"),
    (
        "--encoding",
        Some('E'),
        "a set is written in UTF-8, which a restore converts to its database's encoding",
    ),
];

/// pg_dump's short options that take a value.
const SHORT_VALUES: &str = "dEefFhjnNpStTUZ";

/// pg_dump's long options that take a value (as the next word when not
/// attached with `=`).
const LONG_VALUES: &[&str] = &[
    "file",
    "format",
    "jobs",
    "schema",
    "exclude-schema",
    "table",
    "exclude-table",
    "compress",
    "dbname",
    "host",
    "port",
    "username",
    "role",
    "encoding",
    "superuser",
    "exclude-table-data",
    "lock-wait-timeout",
    "section",
    "snapshot",
    "rows-per-insert",
    "extra-float-digits",
    "include-foreign-data",
    "table-and-children",
    "exclude-table-and-children",
    "exclude-table-data-and-children",
    "filter",
    "extension",
    "exclude-extension",
    "sync-method",
    "restrict-key",
];

/// pg_dump's other long options (flags): with the two lists above, every
/// long option, which an abbreviation is resolved against as pg_dump's
/// `getopt_long` does.
const LONG_FLAGS: &[&str] = &[
    "large-objects",
    "blobs",
    "no-large-objects",
    "no-blobs",
    "no-owner",
    "verbose",
    "no-password",
    "password",
    "version",
    "help",
    "no-privileges",
    "no-acl",
    "binary-upgrade",
    "disable-dollar-quoting",
    "if-exists",
    "no-table-access-method",
    "no-tablespaces",
    "quote-all-identifiers",
    "strict-names",
    "use-set-session-authorization",
    "no-comments",
    "no-policies",
    "no-publications",
    "no-security-labels",
    "no-statistics",
    "no-subscriptions",
    "no-toast-compression",
    "no-unlogged-table-data",
    "no-sync",
    "on-conflict-do-nothing",
    "sequence-data",
    "with-data",
    "with-schema",
    "with-statistics",
];

/// Refuses pg_dump arguments (those before a `--`) that a set cannot hold,
/// naming the argument and the fix: one stream (`BACKUP_JOBS=1`).
pub(crate) fn refuse_set_args(args: &[String]) -> Result<()> {
    let mut words = args.iter().take_while(|a| *a != "--");
    while let Some(arg) = words.next() {
        let (refusal, takes_next) = examine(arg);
        // `-F p` and `--format plain`: the plain format is the set's own.
        if (arg == "-F" || arg == "--format") && words.clone().next().is_some_and(|v| plain(v)) {
            words.next();
            continue;
        }
        if let Some((option, why)) = refusal {
            return Err(Error::config(
                Setting::DumpArgs,
                format!(
                    "the dump argument `{}` ({option}) cannot be held by a parallel backup \
                     set ({why}): back it up with one job (BACKUP_JOBS=1) or remove the argument",
                    arg.escape_debug()
                ),
            ));
        }
        if takes_next {
            words.next();
        }
    }
    Ok(())
}

/// The long option (without `--`) that `name` stands for: itself, or the
/// one it abbreviates, a refused one first.
fn resolve(name: &str) -> String {
    let options: Vec<&str> = REFUSED
        .iter()
        .map(|(option, ..)| &option[2..])
        .chain(LONG_VALUES.iter().copied())
        .chain(LONG_FLAGS.iter().copied())
        .collect();
    let arg = format!("--{name}");
    spelled_out(&arg, &options)[2..].to_string()
}

/// Whether a format value names the plain format.
fn plain(value: &str) -> bool {
    matches!(value, "p" | "plain")
}

/// The refused option `arg` is and why, if it is one (`--format=p`, plain,
/// is allowed), and whether the next word is its value.
fn examine(arg: &str) -> (Option<(&'static str, &'static str)>, bool) {
    if let Some(long) = arg.strip_prefix("--") {
        let (name, value) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (long, None),
        };
        let name = resolve(name);
        let name = name.as_str();
        let takes_next = value.is_none() && LONG_VALUES.contains(&name);
        if name == "format" && value.is_some_and(plain) {
            return (None, false);
        }
        let refusal = REFUSED
            .iter()
            .find(|(option, ..)| option[2..] == *name)
            .map(|(option, _, why)| (*option, *why));
        return (refusal, takes_next);
    }
    let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) else {
        return (None, false);
    };
    for (i, letter) in short.char_indices() {
        let rest = &short[i + letter.len_utf8()..];
        if let Some((option, _, why)) = REFUSED.iter().find(|(_, s, ..)| *s == Some(letter)) {
            if letter == 'F' && plain(rest) {
                return (None, false);
            }
            return (Some((option, why)), false);
        }
        if SHORT_VALUES.contains(letter) {
            // The value is the rest of the word, or the next word.
            return (None, rest.is_empty());
        }
    }
    (None, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str]) -> Result<()> {
        refuse_set_args(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_a_set_cannot_hold_are_refused_with_the_fix() {
        for bad in [
            &["-Fc"][..],
            &["--format=custom"],
            &["-F", "t"],
            &["--format", "c"],
            &["--inserts"],
            &["-s"],
            &["--data-only"],
            &["-C"],
            &["--section=data"],
            &["--snapshot=00000003-1"],
            &["--load-via-partition-root"],
            &["-Z9"],
            &["-j", "4"],
            &["-Ox", "-c"],
            &["--role=admin"],
            &["-E", "LATIN1"],
            &["-ELATIN1"],
            &["--encoding=UTF8"],
            // pg_dump takes unambiguous abbreviations of long options.
            &["--data-on"],
            &["--sect", "data"],
            &["--form=c"],
            &["--ins"],
            &["--load-via"],
            &["--snap=00000003-1"],
            &["--no-synchronized"],
        ] {
            let err = check(bad).unwrap_err();
            assert_eq!(err.setting(), Some(Setting::DumpArgs), "{bad:?}");
            assert!(err.to_string().contains("BACKUP_JOBS=1"), "{err}");
        }
    }

    #[test]
    fn selections_and_omissions_apply_to_the_set() {
        check(&[
            "-t",
            "public.a",
            "-T",
            "b*",
            "-n",
            "s",
            "-N",
            "x",
            "--exclude-table-data=log",
            "-O",
            "-x",
            "--no-comments",
            "-Fp",
            "--format=plain",
            "-F",
            "p",
            "--format",
            "plain",
            "-h",
            "db",
            "-p",
            "5433",
            "-U",
            "me",
            "--no-publications",
            "-b",
            "-v",
        ])
        .unwrap();
        // Values of options are never read as options.
        check(&["-t", "-s", "-n", "-C", "--", "-Fc"]).unwrap();
        // Abbreviations of options a set holds, exact options that begin
        // another's name, and their values.
        check(&[
            "--exclude-table-data-and=log",
            "--no-own",
            "--form=p",
            "--lock-wait",
            "-s",
            "--schema",
            "x",
            "--no-sync",
        ])
        .unwrap();
    }
}
