//! The user's arguments for a database tool (after `--`), read as the tools
//! read them: the options that say how to connect apply to every connection
//! a command makes (the dump or the restore client, and dbbr's own queries:
//! versions, sizes, the target's state, create, drop, row counts), and the
//! options that would send a restore somewhere else (another database,
//! another input, a transaction of its own) are refused.

use super::argv::spelled_out;
use super::Engine;
use crate::error::{Error, Result, Setting};

/// PostgreSQL options that say how to connect, and whether they take a value.
const PG_CONNECT: &[ConnectOption] = &[
    ("--host", Some('h'), true),
    ("--port", Some('p'), true),
    ("--username", Some('U'), true),
    ("--no-password", Some('w'), false),
];

/// psql's and pg_restore's short options that take a value (so that the
/// value is not taken for a positional argument).
const PG_SHORT_VALUES: &str = "cdfFhIjLnNopPRStTUv";
/// psql's and pg_restore's long options that take a value.
const PG_LONG_VALUES: &[&str] = &[
    "--command",
    "--dbname",
    "--file",
    "--field-separator",
    "--format",
    "--host",
    "--index",
    "--jobs",
    "--log-file",
    "--output",
    "--port",
    "--pset",
    "--record-separator",
    "--role",
    "--schema",
    "--exclude-schema",
    "--section",
    "--set",
    "--superuser",
    "--table",
    "--table-attr",
    "--trigger",
    "--function",
    "--use-list",
    "--username",
    "--variable",
    "--filter",
];

/// What psql must not be told when it restores a plain dump: another
/// database (`-d`), another input (`-f`, `-c`, `-l`), its own transaction
/// handling (`-1`: dbbr ends the transaction itself), or to prompt.
const PSQL_REDIRECTS: &[(&str, char, &str)] = &[
    ("--dbname", 'd', "the target is --to"),
    ("--file", 'f', "the input is the backup"),
    ("--command", 'c', "the input is the backup"),
    ("--list", 'l', "the input is the backup"),
    (
        "--single-transaction",
        '1',
        "the restore is one transaction that dbbr ends",
    ),
    ("--output", 'o', "the output is not needed"),
    ("--single-step", 's', "it would wait for a terminal"),
    ("--password", 'W', "it would wait for a terminal"),
];

/// What pg_restore must not be told when it restores an archive: the same,
/// and creating a database (`-C`) or parallel jobs (`-j`: the archive comes
/// as a stream).
const PG_RESTORE_REDIRECTS: &[(&str, char, &str)] = &[
    ("--dbname", 'd', "the target is --to"),
    ("--file", 'f', "the output goes to the target"),
    ("--list", 'l', "the input is the backup"),
    (
        "--single-transaction",
        '1',
        "the restore is one transaction that dbbr ends",
    ),
    ("--create", 'C', "the target is --to (with --create)"),
    ("--jobs", 'j', "the archive comes as a stream"),
    ("--password", 'W', "it would wait for a terminal"),
];

/// MariaDB options that say how to connect (long forms; `=VALUE` or a
/// separate value), with their short forms.
const MARIA_CONNECT: &[ConnectOption] = &[
    ("--user", Some('u'), true),
    ("--host", Some('h'), true),
    ("--port", Some('P'), true),
    ("--socket", Some('S'), true),
    ("--protocol", None, true),
    ("--default-character-set", None, true),
    ("--connect-timeout", None, true),
    ("--compress", Some('C'), false),
    ("--plugin-dir", None, true),
    ("--default-auth", None, true),
    ("--server-public-key-path", None, true),
    ("--get-server-public-key", None, false),
    ("--skip-ssl", None, false),
    ("--ssl", None, false),
    ("--ssl-ca", None, true),
    ("--ssl-capath", None, true),
    ("--ssl-cert", None, true),
    ("--ssl-cipher", None, true),
    ("--ssl-crl", None, true),
    ("--ssl-crlpath", None, true),
    ("--ssl-key", None, true),
    ("--ssl-verify-server-cert", None, false),
    ("--skip-ssl-verify-server-cert", None, false),
    ("--tls-version", None, true),
];

/// The MariaDB clients' short options that take a value.
const MARIA_SHORT_VALUES: &str = "uhPSDeOT";
/// MariaDB long options that take a value, besides the connection ones.
const MARIA_LONG_VALUES: &[&str] = &[
    "--database",
    "--execute",
    "--init-command",
    "--max-allowed-packet",
    "--net-buffer-length",
    "--character-sets-dir",
    "--delimiter",
    "--pager",
    "--prompt",
    "--tee",
    "--local-infile",
    "--max-join-size",
    "--select-limit",
];

/// What a MariaDB restore client must not be told.
const MARIA_REDIRECTS: &[(&str, Option<char>, &str)] = &[
    ("--database", Some('D'), "the target is --to"),
    ("--execute", Some('e'), "the input is the backup"),
    (
        "--one-database",
        Some('o'),
        "the restore goes through a staging database",
    ),
    ("--init-command", None, "the target is --to"),
    ("--tee", None, "the output is not needed"),
];

/// One argument as a tool reads it.
struct Arg<'a> {
    /// The long option's name, or `-X` for a short one, or "" for a
    /// positional argument.
    name: String,
    /// Every word of the option, value included.
    words: &'a [String],
}

/// Splits `args` into options (with their values) and positional arguments,
/// given which options take a value. Arguments after `--` are positional.
/// A long option's name is written in full when it abbreviates one that
/// dbbr reads (`--dbn=x` is `--dbname=x`), as the tools read it.
fn split(engine: Engine, args: &[String]) -> Vec<Arg<'_>> {
    let (_, short_values, long_values) = tables(engine);
    let watched = watched(engine);
    let mut out = Vec::new();
    let mut i = 0;
    let mut options = true;
    while i < args.len() {
        let arg = args[i].as_str();
        if options && arg == "--" {
            options = false;
            i += 1;
            continue;
        }
        if options && arg.starts_with("--") {
            let full = spelled_out(arg, &watched);
            let (name, attached) = match full.split_once('=') {
                Some((name, _)) => (name, true),
                None => (full.as_ref(), false),
            };
            let takes = long_values.contains(&name);
            let n = if takes && !attached && i + 1 < args.len() {
                2
            } else {
                1
            };
            out.push(Arg {
                name: name.to_string(),
                words: &args[i..i + n],
            });
            i += n;
            continue;
        }
        if options && arg.len() > 1 && arg.starts_with('-') {
            // Grouped flags; the first that takes a value takes the rest
            // of the word, or the next word.
            let letters: Vec<char> = arg[1..].chars().collect();
            let mut taken = 1;
            for (k, &c) in letters.iter().enumerate() {
                let takes = short_values.contains(c);
                if takes && k + 1 == letters.len() && i + 1 < args.len() {
                    taken = 2;
                }
                out.push(Arg {
                    name: format!("-{c}"),
                    words: &args[i..i + taken],
                });
                if takes {
                    break;
                }
            }
            i += taken;
            continue;
        }
        out.push(Arg {
            name: String::new(),
            words: &args[i..i + 1],
        });
        i += 1;
    }
    out
}

/// The options of `args` (the user's arguments for `engine`'s tools) that
/// say how to connect, in their order, to pass to every connection.
pub(crate) fn connect_options(engine: Engine, args: &[String]) -> Vec<String> {
    let (table, ..) = tables(engine);
    let mut out = Vec::new();
    for arg in split(engine, args) {
        let connects = table.iter().any(|(name, letter, _)| {
            arg.name == *name || letter.is_some_and(|c| arg.name == format!("-{c}"))
        });
        if connects {
            out.extend(arg.words.iter().cloned());
        }
    }
    out
}

/// Every long option dbbr reads in the arguments of `engine`'s clients:
/// what their abbreviations are spelled out to.
fn watched(engine: Engine) -> Vec<&'static str> {
    let (connects, _, values) = tables(engine);
    let redirects: Vec<&str> = match engine {
        Engine::Postgres => PSQL_REDIRECTS
            .iter()
            .chain(PG_RESTORE_REDIRECTS)
            .map(|(name, _, _)| *name)
            .collect(),
        Engine::MariaDb => MARIA_REDIRECTS.iter().map(|(name, _, _)| *name).collect(),
    };
    let mut all: Vec<&str> = redirects
        .into_iter()
        .chain(connects.iter().map(|(name, ..)| *name))
        .chain(values)
        .collect();
    let mut seen = std::collections::HashSet::new();
    all.retain(|name| seen.insert(*name));
    all
}

/// An engine's connection options (name, short form, whether it takes a
/// value), the short options that take a value, and the long ones.
type Tables = (&'static [ConnectOption], &'static str, Vec<&'static str>);

/// A connection option: long name, short form, whether it takes a value.
type ConnectOption = (&'static str, Option<char>, bool);

fn tables(engine: Engine) -> Tables {
    match engine {
        Engine::Postgres => (PG_CONNECT, PG_SHORT_VALUES, PG_LONG_VALUES.to_vec()),
        Engine::MariaDb => {
            let mut long: Vec<&str> = MARIA_LONG_VALUES.to_vec();
            long.extend(
                MARIA_CONNECT
                    .iter()
                    .filter(|(_, _, v)| *v)
                    .map(|(n, _, _)| *n),
            );
            (MARIA_CONNECT, MARIA_SHORT_VALUES, long)
        }
    }
}

/// Refuses restore client arguments that would send the restore elsewhere
/// than dbbr says: another database, another input, a transaction of its
/// own, or positional arguments (which the clients read as a database).
pub(crate) fn refuse_redirects(engine: Engine, archive: bool, args: &[String]) -> Result<()> {
    let refuse = |arg: &str, why: &str| {
        Err(Error::config(
            Setting::ClientArgs,
            format!(
                "the client argument `{}` would redirect the restore ({why}): remove it from \
                 the arguments after --",
                arg.escape_debug()
            ),
        ))
    };
    for arg in split(engine, args) {
        if arg.name.is_empty() {
            return refuse(
                &arg.words[0],
                "a client reads it as the database to restore into",
            );
        }
        let found = match engine {
            Engine::Postgres => (if archive {
                PG_RESTORE_REDIRECTS
            } else {
                PSQL_REDIRECTS
            })
            .iter()
            .find(|(name, c, _)| arg.name == *name || arg.name == format!("-{c}"))
            .map(|(_, _, why)| *why),
            Engine::MariaDb => MARIA_REDIRECTS
                .iter()
                .find(|(name, c, _)| {
                    arg.name == *name || c.is_some_and(|c| arg.name == format!("-{c}"))
                })
                .map(|(_, _, why)| *why),
        };
        if let Some(why) = found {
            return refuse(&arg.words[0], why);
        }
    }
    Ok(())
}

/// What can be refused before the engine is known (before storage is
/// read): arguments that are positional for every engine's clients, and
/// long options that redirect a restore for one of them.
pub(crate) fn refuse_redirects_any_engine(args: &[String]) -> Result<()> {
    let positional_for_all = [Engine::Postgres, Engine::MariaDb]
        .iter()
        .all(|&engine| split(engine, args).iter().any(|a| a.name.is_empty()));
    if positional_for_all {
        return refuse_redirects(Engine::Postgres, false, args);
    }
    let long_redirects: Vec<&str> = PSQL_REDIRECTS
        .iter()
        .chain(PG_RESTORE_REDIRECTS)
        .map(|(name, _, _)| *name)
        .chain(MARIA_REDIRECTS.iter().map(|(name, _, _)| *name))
        .collect();
    for arg in args.iter().take_while(|a| *a != "--") {
        let full = spelled_out(arg, &long_redirects);
        let name = full.split_once('=').map_or(full.as_ref(), |(n, _)| n);
        if long_redirects.contains(&name) {
            return Err(Error::config(
                Setting::ClientArgs,
                format!(
                    "the client argument `{}` would redirect the restore: remove it from the \
                     arguments after --",
                    arg.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn connection_options_are_found_in_every_spelling() {
        let pg = |args: &[&str]| connect_options(Engine::Postgres, &s(args));
        assert_eq!(
            pg(&[
                "-h",
                "db",
                "--no-owner",
                "-p5433",
                "--username=bk",
                "-w",
                "-v",
                "X=1"
            ]),
            s(&["-h", "db", "-p5433", "--username=bk", "-w"])
        );
        assert_eq!(pg(&["-Xqh", "db"]), s(&["-Xqh", "db"]));
        assert!(pg(&["--no-owner", "-O", "-x"]).is_empty());
        // The tools take abbreviations of long options.
        assert_eq!(
            pg(&["--hos=db", "--user", "bk", "--no-own"]),
            s(&["--hos=db", "--user", "bk"])
        );
        let maria = |args: &[&str]| connect_options(Engine::MariaDb, &s(args));
        assert_eq!(
            maria(&[
                "--user=bk",
                "-h",
                "127.0.0.1",
                "-P3307",
                "--force",
                "--ssl-ca",
                "/ca",
                "--skip-ssl"
            ]),
            s(&[
                "--user=bk",
                "-h",
                "127.0.0.1",
                "-P3307",
                "--ssl-ca",
                "/ca",
                "--skip-ssl"
            ])
        );
        assert_eq!(maria(&["-ubk"]), s(&["-ubk"]));
        assert_eq!(maria(&["--user", "bk"]), s(&["--user", "bk"]));
        assert!(maria(&["--defaults-extra-file=/x.cnf"]).is_empty());
    }

    #[test]
    fn redirects_for_any_engine_are_refused_before_storage_is_read() {
        for args in [
            &["--dbname=x"][..],
            &["--database", "x"],
            &["--single-transaction"],
            &["x"],
            &["-U", "u", "x"],
            &["--dbn=x"],
            &["--single-t"],
        ] {
            refuse_redirects_any_engine(&s(args)).unwrap_err();
        }
        // Short options mean different things to each engine's clients:
        // they wait until the engine is known.
        for args in [
            &["-f"][..],
            &["-C"],
            &["-h", "host", "-p", "5432"],
            &["--user=bk"],
        ] {
            refuse_redirects_any_engine(&s(args)).unwrap();
        }
    }

    #[test]
    fn redirects_are_refused() {
        for args in [
            &["-d", "other"][..],
            &["--dbname=other"],
            &["-dother"],
            &["-f", "/tmp/x.sql"],
            &["-c", "DROP TABLE t"],
            &["-1"],
            &["--single-transaction"],
            &["other"],
            &["-U", "bk", "other"],
            &["-Xq1"],
            &["-W"],
            &["--dbn=other"],
            &["--fil", "/tmp/x.sql"],
            &["--single-tr"],
        ] {
            let err = refuse_redirects(Engine::Postgres, false, &s(args)).unwrap_err();
            assert_eq!(err.setting(), Some(Setting::ClientArgs), "{args:?}");
        }
        for args in [
            &["-C"][..],
            &["-j", "4"],
            &["-d", "x"],
            &["archive.dump"],
            &["-1"],
        ] {
            refuse_redirects(Engine::Postgres, true, &s(args)).unwrap_err();
        }
        // pg_restore's -c is --clean, which stays inside the transaction.
        refuse_redirects(Engine::Postgres, true, &s(&["-c", "--if-exists", "-O"])).unwrap();
        for args in [
            &["-D", "other"][..],
            &["--database=other"],
            &["-Dother"],
            &["-e", "DROP TABLE t"],
            &["--init-command=USE other"],
            &["other"],
            &["--user", "bk", "other"],
        ] {
            let err = refuse_redirects(Engine::MariaDb, false, &s(args)).unwrap_err();
            assert!(err.to_string().contains("redirect"), "{args:?}: {err}");
        }
        for ok in [
            &[
                "-h",
                "db",
                "-U",
                "bk",
                "-v",
                "ON_ERROR_STOP=0",
                "--no-owner",
            ][..],
            &["-O", "-x", "--role", "app", "-n", "public"],
            &[],
        ] {
            refuse_redirects(Engine::Postgres, false, &s(ok)).unwrap();
        }
        for ok in [
            &[
                "--user=bk",
                "-h",
                "h",
                "--force",
                "--defaults-extra-file=/x",
            ][..],
            &["-ubk", "--default-character-set", "utf8mb4"],
        ] {
            refuse_redirects(Engine::MariaDb, false, &s(ok)).unwrap();
        }
    }
}
