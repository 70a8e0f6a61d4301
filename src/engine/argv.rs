//! The user's arguments for a database tool, read as the tool reads them:
//! long options written in full, and passwords never on a client's command
//! line, where every user of the machine can read them (`/proc/PID/cmdline`,
//! `ps`): arguments that carry one are refused before anything runs.

use std::borrow::Cow;

use crate::error::{Error, Result, Setting};

/// `arg` with its long option's name written in full when it abbreviates
/// one of `options` (names with their `--`). The database tools take any
/// unambiguous prefix of a long option (`--form=c` is `--format=c`), so a
/// check that looks for an option must look for its abbreviations too. An
/// abbreviation of several of `options` is read as the first of them (the
/// tool refuses it as ambiguous). Any other argument comes back as it is.
pub(crate) fn spelled_out<'a>(arg: &'a str, options: &[&str]) -> Cow<'a, str> {
    let Some(body) = arg.strip_prefix("--") else {
        return Cow::Borrowed(arg);
    };
    let (name, value) = match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    };
    let names = || options.iter().map(|o| o.strip_prefix("--").unwrap_or(o));
    if name.is_empty() || names().any(|full| full == name) {
        return Cow::Borrowed(arg);
    }
    match (names().find(|full| full.starts_with(name)), value) {
        (Some(full), Some(value)) => Cow::Owned(format!("--{full}={value}")),
        (Some(full), None) => Cow::Owned(format!("--{full}")),
        (None, _) => Cow::Borrowed(arg),
    }
}

/// Refuses `args` (dump or client arguments) if one carries a password: a
/// libpq connection string with `password=`, a URL with `user:password@`,
/// MariaDB's `--password=...` (or an abbreviation such as `--pass=`), and,
/// with `short_p_is_password` (the MariaDB clients, where `-p` is the
/// password and not the port), `-pSECRET`.
pub(crate) fn refuse_passwords(
    args: &[String],
    short_p_is_password: bool,
    setting: Setting,
    fix: &str,
) -> Result<()> {
    let Some(i) = args
        .iter()
        .position(|a| carries_password(a, short_p_is_password))
    else {
        return Ok(());
    };
    Err(Error::config(
        setting,
        format!(
            "argument {} carries a password, which every user of the machine could read on \
             the command line: {fix}",
            i + 1
        ),
    ))
}

fn carries_password(arg: &str, short_p_is_password: bool) -> bool {
    let lower = arg.to_ascii_lowercase();
    let long_password = lower
        .strip_prefix("--pass")
        .and_then(|rest| rest.split_once('='))
        .is_some_and(|(tail, value)| "word".starts_with(tail) && !value.is_empty());
    let short_password = short_p_is_password && arg.len() > 2 && arg.starts_with("-p");
    long_password
        || short_password
        || lower.contains("password=")
        || crate::redact::has_url_password(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &[&str], short_p: bool) -> bool {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        refuse_passwords(&args, short_p, Setting::DumpArgs, "fix").is_err()
    }

    #[test]
    fn arguments_with_passwords_are_refused() {
        for args in [
            &["--dbname=host=h password=x dbname=d"][..],
            &["-d", "postgresql://u:pw@h/db"],
            &["-d", "postgresql://u@h/db?password=pw"],
            &["--password=x"],
            &["--pass=x"],
            &["--PASSWORD=x"],
        ] {
            assert!(refused(args, false), "{args:?}");
        }
        assert!(refused(&["-psecret"], true));
        let err = refuse_passwords(
            &["-a".into(), "--password=hunter2".into()],
            true,
            Setting::DumpArgs,
            "use X",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("argument 2") && err.contains("use X") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn abbreviated_long_options_are_spelled_out() {
        let options = ["--format", "--file", "--schema", "--schema-only"];
        for (arg, full) in [
            ("--form=c", "--format=c"),
            ("--fo", "--format"),
            ("--fil", "--file"),
            ("--f=x", "--format=x"),
            ("--schema", "--schema"),
            ("--schema-o", "--schema-only"),
            ("--sch=s", "--schema=s"),
            ("--format=c", "--format=c"),
            ("--no-owner", "--no-owner"),
            ("--", "--"),
            ("--=x", "--=x"),
            ("-Fc", "-Fc"),
            ("fo", "fo"),
        ] {
            assert_eq!(spelled_out(arg, &options), full, "{arg}");
        }
    }

    #[test]
    fn other_arguments_pass() {
        for args in [
            &["--no-owner", "-Fc", "-p5432", "-d", "postgresql://u@h/db"][..],
            &["--password"],
            &["--passive=x"],
            &["--single-transaction", "--quick"],
        ] {
            assert!(!refused(args, false), "{args:?}");
        }
        assert!(!refused(&["-p"], true));
        assert!(!refused(&["--port=3306"], true));
    }
}
