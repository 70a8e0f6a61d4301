//! Passwords never go on a client's command line, where every user of the
//! machine can read them (`/proc/PID/cmdline`, `ps`): arguments that carry
//! one are refused before anything runs.

use crate::error::{Error, Result, Setting};

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
