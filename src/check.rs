//! A pre-flight check of a backup's deployment: everything a backup needs,
//! without dumping. Settings as a backup validates them, the dump tool,
//! each database reachable with the credentials given, the dump tool's
//! version against the server's, storage reachable and writable (a probe
//! object written, read back and deleted), the recipients, and that an
//! identity decrypts for them.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;

use crate::backup::{preflight, Backup};
use crate::decode::{Decoder, Expected};
use crate::encode::{Codec, Encoder, Identities};
use crate::engine::Target;
use crate::error::{Error, Result};

/// How far the storage check goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageProbe {
    /// Write a small probe object under the prefix, read it back, delete it.
    #[default]
    Write,
    /// Write and read back, but leave the probe (credentials that may write
    /// but not delete, e.g. with object lock).
    NoDelete,
    /// Only list the prefix (read-only credentials; a backup needs write
    /// access, which this does not prove).
    List,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// It passed.
    Ok,
    /// It failed: a backup would fail.
    Failed,
    /// It could not be checked because an earlier check failed, or does
    /// not apply.
    Skipped,
}

/// One line of a check.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CheckItem {
    /// What was checked: `settings`, `dump_tool`, `database`, `set` (what
    /// a parallel set would take), `tool_version`, `storage`,
    /// `recipients`, `identity`.
    pub check: &'static str,
    /// The database, for per-database checks.
    pub database: Option<String>,
    /// Passed, failed or skipped.
    pub status: CheckStatus,
    /// What was found, or why it failed.
    pub detail: String,
}

/// Every check, in order.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The run id (the storage probe's name includes it).
    pub run_id: String,
    /// One item per check.
    pub checks: Vec<CheckItem>,
}

impl CheckReport {
    /// Whether nothing failed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Failed)
    }

    fn push(&mut self, check: &'static str, database: Option<&str>, result: Result<String>) {
        let (status, detail) = match result {
            Ok(detail) => (CheckStatus::Ok, detail),
            Err(e) => (CheckStatus::Failed, e.to_string()),
        };
        self.checks.push(CheckItem {
            check,
            database: database.map(str::to_string),
            status,
            detail,
        });
    }

    fn skip(&mut self, check: &'static str, database: Option<&str>, why: &str) {
        self.checks.push(CheckItem {
            check,
            database: database.map(str::to_string),
            status: CheckStatus::Skipped,
            detail: why.to_string(),
        });
    }
}

impl Backup {
    /// Checks every setting as [`Backup::run`] does before it starts, with
    /// no database, storage or network I/O: `Err` is the configuration
    /// error `run` would return. Useful before starting a scheduler.
    pub fn validate(mut self) -> Result<()> {
        preflight(&mut self.options, self.keep, Utc::now(), true).map(|_| ())
    }
}

/// A pre-flight check of the backup `backup` would run.
///
/// ```no_run
/// let backup = dbbr::Backup::new(dbbr::Engine::Postgres)
///     .databases(["app"])
///     .remote("store");
/// let report = dbbr::Check::new(backup).run()?;
/// for c in &report.checks {
///     println!("{}: {:?} {}", c.check, c.status, c.detail);
/// }
/// # Ok::<(), dbbr::Error>(())
/// ```
pub struct Check {
    backup: Backup,
    identity_file: Option<PathBuf>,
    identities: Option<Arc<Identities>>,
    storage: StorageProbe,
}

impl Check {
    /// Checks what `backup` needs.
    pub fn new(backup: Backup) -> Check {
        Check {
            backup,
            identity_file: None,
            identities: None,
            storage: StorageProbe::default(),
        }
    }

    /// Also check that this identity file decrypts for one of the
    /// recipients.
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Check {
        self.identity_file = Some(path.into());
        self
    }

    /// Identities already loaded, to check like [`Check::identity_file`].
    pub fn identities(mut self, identities: impl Into<Arc<Identities>>) -> Check {
        self.identities = Some(identities.into());
        self
    }

    /// How far the storage check goes (default: write, read back, delete).
    pub fn storage_probe(mut self, probe: StorageProbe) -> Check {
        self.storage = probe;
        self
    }

    /// Runs every check; a failure does not stop the others (checks that
    /// depend on a failed one are skipped).
    ///
    /// `Err` means the settings were rejected before any I/O, as `backup`
    /// would reject them.
    pub fn run(mut self) -> Result<CheckReport> {
        let Backup {
            ref mut options,
            keep,
            ref run_id,
            ..
        } = self.backup;
        let (mut plan, objects) = preflight(options, keep, Utc::now(), false)?;
        let identities =
            Identities::given_or_read(self.identities.take(), self.identity_file.as_deref())?;
        let mut report = CheckReport {
            run_id: run_id.to_string(),
            checks: Vec::new(),
        };
        let example = objects
            .first()
            .map(|o| format!(" (e.g. {o})"))
            .unwrap_or_default();
        let what = match plan.discover {
            Some(_) => "every database".to_string(),
            None => labels(&plan.targets),
        };
        report.push(
            "settings",
            None,
            Ok(format!(
                "{} backup of {what} into {}{example}",
                plan.engine.name(),
                plan.remote,
            )),
        );
        if plan.discover.is_some() {
            let listed = crate::backup::jobs(&plan).map(|jobs| {
                plan.targets = jobs.into_iter().map(|j| j.target).collect();
                format!("to back up: {}", labels(&plan.targets))
            });
            report.push("databases", None, listed);
        }

        let kind = plan.engine.kind();
        let all = plan.targets == [Target::All];
        let installed = plan.targets.iter().try_for_each(|t| {
            kind.dump_command(t, &plan.dump_args, &plan.connection)
                .check_installed()
        });
        let tool = kind.tool_version(all);
        report.push(
            "dump_tool",
            None,
            installed.and_then(|()| {
                tool.clone().ok_or_else(|| {
                    Error::config(
                        crate::Setting::DumpTool,
                        "the dump tool does not tell its version (--version failed)",
                    )
                })
            }),
        );

        let mut server = None;
        for target in &plan.targets {
            let probed = kind.probe(target, &plan.connection, &plan.dump_args);
            if let Ok(version) = &probed {
                server.get_or_insert_with(|| version.clone());
            }
            report.push(
                "database",
                Some(target.label()),
                probed.map(|v| format!("reachable, server {v}")),
            );
        }
        if let Some(set) = &plan.set {
            for target in &plan.targets {
                if let Target::Database(name) = target {
                    report.push(
                        "set",
                        Some(name),
                        crate::backup::describe_set(&plan, name, set),
                    );
                }
            }
        }
        match (&tool, &server) {
            (Some(tool), Some(server)) => {
                // Also the backup's own rule, so that check fails wherever
                // a backup would refuse (PostgreSQL before 10: 9.5 < 9.6).
                let compared = compare_versions(tool, server)
                    .and_then(|ok| kind.check_versions(Some(tool), Some(server)).map(|()| ok));
                report.push("tool_version", None, compared)
            }
            _ => report.skip(
                "tool_version",
                None,
                "needs the dump tool's and the server's versions",
            ),
        }

        report.push(
            "storage",
            None,
            probe_storage(&plan.remote, self.storage, run_id.as_str()),
        );

        match &plan.recipients {
            Some(r) => report.push(
                "recipients",
                None,
                Ok(format!(
                    "{} recipient(s): {}",
                    r.len(),
                    r.fingerprints().join(", ")
                )),
            ),
            None => report.skip("recipients", None, "not encrypting: no recipients are set"),
        }
        match (&identities, &plan.recipients) {
            (Some(ids), Some(recipients)) => {
                report.push("identity", None, round_trip(recipients, ids))
            }
            (Some(_), None) => report.skip(
                "identity",
                None,
                "no recipients to check the identity against",
            ),
            (None, _) => report.skip("identity", None, "no identity file given"),
        }
        Ok(report)
    }
}

fn labels(targets: &[Target]) -> String {
    targets
        .iter()
        .map(Target::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes, reads back and (unless told not to) deletes a probe object.
fn probe_storage(remote: &crate::Remote, probe: StorageProbe, run_id: &str) -> Result<String> {
    if probe == StorageProbe::List {
        let entries = remote.list("", false)?;
        return Ok(format!(
            "listed {remote} ({} entries; read-only check: writing was not tried)",
            entries.len()
        ));
    }
    let name = format!(".dbbr-check-{run_id}");
    let content = format!("dbbr check {run_id}\n");
    let mut upload = remote.upload(&name)?;
    upload
        .write_all(content.as_bytes())
        .map_err(|e| Error::io(format!("writing the probe {name}"), e))?;
    upload.commit()?;
    let mut back = String::new();
    let read = remote
        .download(&name)
        .and_then(|mut d| {
            d.read_to_string(&mut back)
                .map_err(|e| Error::io(format!("reading the probe {name} back"), e))
        })
        .and_then(|_| {
            if back == content {
                Ok(())
            } else {
                Err(Error::Storage(format!(
                    "the probe {name} read back differs from what was written"
                )))
            }
        });
    if probe == StorageProbe::NoDelete {
        read?;
        return Ok(format!(
            "wrote and read back {name} in {remote} (left there: delete it when convenient)"
        ));
    }
    let deleted = remote.delete(&name);
    read?;
    deleted?;
    Ok(format!("wrote, read back and deleted {name} in {remote}"))
}

/// Encrypts a probe to `recipients` and decrypts it with `identities`.
fn round_trip(recipients: &crate::Recipients, identities: &Identities) -> Result<String> {
    let text = b"dbbr identity check\n";
    let mut encoder = Encoder::new(Vec::new(), Codec::default(), Some(recipients))?;
    encoder
        .write_all(text)
        .map_err(|e| Error::Encode(e.to_string()))?;
    let (stored, _) = encoder.finish()?;
    let mut decoder = Decoder::new(
        &stored[..],
        Codec::default(),
        Some(identities),
        Expected::default(),
    )?;
    let mut back = Vec::new();
    let _ = decoder.read_to_end(&mut back);
    decoder.finish()?;
    if back != text {
        return Err(Error::Encode("the decrypted probe differs".into()));
    }
    Ok(format!(
        "{} decrypts what is encrypted to the recipients",
        identities.source()
    ))
}

/// The dump tool's major version must be at least the server's.
fn compare_versions(tool: &str, server: &str) -> Result<String> {
    let (Some(t), Some(s)) = (major(tool), major(server)) else {
        return Err(Error::Dump {
            database: "all".into(),
            message: format!("cannot compare versions: dump tool `{tool}`, server `{server}`"),
        });
    };
    if t >= s {
        Ok(format!(
            "dump tool {t} (`{tool}`) >= server {s} (`{server}`)"
        ))
    } else {
        Err(Error::config(
            crate::Setting::DumpTool,
            format!(
                "the dump tool is older than the server: `{tool}` (major {t}) < server \
                 `{server}` (major {s}): install the dump tool of version {s} or newer"
            ),
        ))
    }
}

/// The major version in a `--version` line or a server version:
/// `pg_dump (PostgreSQL) 17.2` -> 17, `mariadb-dump from 11.8.3-MariaDB,
/// client 10.19` -> 11, `mysqldump Ver 10.19 Distrib 10.11.6-MariaDB` -> 10,
/// `16.4 (Debian 16.4-1)` -> 16.
fn major(text: &str) -> Option<u32> {
    let is_sep = |c: char| c.is_whitespace() || c == ',';
    let token = ["Distrib ", " from "]
        .iter()
        .find_map(|marker| text.split_once(marker))
        .and_then(|(_, rest)| rest.split(is_sep).next())
        .or_else(|| {
            text.split(is_sep)
                .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        })?;
    let digits: String = token.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions() {
        assert_eq!(
            major("pg_dump (PostgreSQL) 17.2 (Debian 17.2-1.pgdg+1)"),
            Some(17)
        );
        assert_eq!(major("16.4 (Debian 16.4-1)"), Some(16));
        assert_eq!(
            major("mariadb-dump from 11.8.3-MariaDB, client 10.19 for debian-linux-gnu (x86_64)"),
            Some(11)
        );
        assert_eq!(
            major("mysqldump  Ver 10.19 Distrib 10.11.6-MariaDB, for debian-linux-gnu"),
            Some(10)
        );
        assert_eq!(major("mysqldump  Ver 8.0.35 for Linux on x86_64"), Some(8));
        assert_eq!(major("11.8.3-MariaDB-0+deb13u1"), Some(11));
        assert_eq!(major("no version"), None);
    }

    #[test]
    fn an_older_tool_names_both_versions() {
        let err = compare_versions("pg_dump (PostgreSQL) 15.3", "17.2").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("15.3") && text.contains("17.2"), "{text}");
        assert!(compare_versions("pg_dump (PostgreSQL) 17.0", "17.2").is_ok());
        assert!(compare_versions("pg_dump (PostgreSQL) 18.1", "17.2").is_ok());
    }
}
