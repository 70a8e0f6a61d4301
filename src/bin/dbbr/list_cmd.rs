//! `dbbr list [--database DB] [--json] [--all]`: the backups under the
//! remote and prefix, read from their manifests.

use std::io::{self, Write};

use clap::Args;
use dbbr::{Catalog, Error, Remote, Result, State, StoredBackup, Stray, Unreadable};
use serde::Serialize;

use crate::outcome::Outcome;
use crate::storage_args::StorageArgs;

/// What to list.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Only the backups of this database.
    #[arg(long, value_parser = crate::settings::text())]
    database: Option<String>,
    /// One JSON document (schema in docs/restore-and-verify.md) instead of a table.
    #[arg(long)]
    json: bool,
    /// Also objects that are not backups (no manifest: failed or killed runs,
    /// foreign files). Manifests that cannot be read are always shown.
    #[arg(long)]
    all: bool,
}

/// The `--json` document.
#[derive(Serialize)]
struct Listing<'a> {
    /// Always 1 for this schema.
    schema: u32,
    backups: Vec<&'a StoredBackup>,
    /// Manifests that could not be read or are not valid: broken backups
    /// whose database is unknown.
    unreadable: &'a [Unreadable],
    #[serde(skip_serializing_if = "Option::is_none")]
    not_backups: Option<&'a [Stray]>,
}

/// Lists; [`Outcome::Failed`] when a broken backup or a manifest that
/// could not be read was found: what exists is not fully known then.
pub fn run(args: ListArgs) -> Outcome {
    list(args).into()
}

/// Lists; `Ok(false)` when a broken backup or an unreadable manifest was
/// found.
fn list(args: ListArgs) -> Result<bool> {
    let remote: Remote = args.storage.remote()?;
    if let Some(database) = &args.database {
        crate::settings::name_given("--database", database)?;
    }
    let catalog = Catalog::read(&remote)?;
    let backups: Vec<&StoredBackup> = catalog
        .backups
        .iter()
        .filter(|b| {
            args.database
                .as_deref()
                .is_none_or(|d| b.manifest.database == d)
        })
        .collect();
    let healthy = backups.iter().all(|b| b.state == State::Ok) && catalog.unreadable.is_empty();
    let text = if args.json {
        let listing = Listing {
            schema: 1,
            backups,
            unreadable: &catalog.unreadable,
            not_backups: args.all.then_some(catalog.strays.as_slice()),
        };
        let document = serde_json::to_value(&listing)
            .map_err(|e| Error::io("writing the listing", io::Error::other(e)))?;
        format!("{:#}\n", crate::settings::masked_json(document))
    } else {
        let mut table_text = Vec::new();
        table(
            &mut table_text,
            &backups,
            &catalog.unreadable,
            args.all.then_some(&catalog.strays),
        )
        .map_err(|e| Error::io("writing the listing", e))?;
        crate::settings::masked(&String::from_utf8_lossy(&table_text))
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("writing the listing", e))?;
    Ok(healthy)
}

/// A table for people: one line per backup (a set too, with its number of
/// parts and jobs after its state), grouped by engine and database.
fn table(
    out: &mut impl Write,
    backups: &[&StoredBackup],
    unreadable: &[Unreadable],
    strays: Option<&Vec<Stray>>,
) -> io::Result<()> {
    writeln!(
        out,
        "{:<11} {:<8} {:<16} {:<20} {:>10} {:>10} {:<6} {:<4} {:<40} STATE",
        "ENGINE", "KIND", "DATABASE", "TIME (UTC)", "STORED", "RAW", "CODEC", "ENC", "OBJECT"
    )?;
    for b in backups {
        let m = &b.manifest;
        let state = match &b.state {
            State::Ok => match &b.verified {
                Some(v) if v.ok => format!(
                    "ok, {} verified {}",
                    v.level,
                    v.verified_at.format("%Y-%m-%d")
                ),
                Some(v) => format!(
                    "FAILED {} verify {}",
                    v.level,
                    v.verified_at.format("%Y-%m-%d")
                ),
                None => "ok".into(),
            },
            State::Missing => match &b.bad_part {
                Some(part) => format!("BROKEN: part {part} missing"),
                None => "BROKEN: object missing".into(),
            },
            State::SizeMismatch { size } => match &b.bad_part {
                Some(part) => format!("BROKEN: part {part} size {size}"),
                None => format!("BROKEN: size {size}"),
            },
            _ => "unknown".into(),
        };
        // A set is one backup of many objects: say how many.
        let state = match &m.set {
            Some(set) => format!(
                "{state} (set: {} parts, {} jobs)",
                set.parts.len(),
                set.jobs
            ),
            None => state,
        };
        writeln!(
            out,
            "{:<11} {:<8} {:<16} {:<20} {:>10} {:>10} {:<6} {:<4} {:<40} {}",
            m.engine,
            b.kind().name(),
            crate::show::one_line(&m.database),
            m.started_at.format("%Y-%m-%d %H:%M:%S"),
            crate::show::bytes(m.stored_bytes),
            crate::show::bytes(m.raw_bytes),
            m.codec,
            if m.encrypted { "age" } else { "no" },
            b.object(),
            state,
        )?;
    }
    for u in unreadable {
        writeln!(
            out,
            "{:<11} {:<8} {:<16} {:<20} {:>10} {:>10} {:<6} {:<4} {:<40} BROKEN: {}: {}",
            "?",
            "?",
            "?",
            "?",
            "?",
            "?",
            "?",
            "?",
            u.object,
            if u.read_failed {
                "manifest could not be read"
            } else {
                "manifest unreadable"
            },
            crate::show::one_line(&u.reason),
        )?;
    }
    if let Some(strays) = strays {
        for s in strays {
            writeln!(
                out,
                "not a backup ({:?}): {} ({} bytes)",
                s.kind, s.path, s.size
            )?;
        }
    }
    Ok(())
}
