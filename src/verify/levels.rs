//! The three levels of a check: quick (size and SHA-256), full (decrypted
//! and decompressed, rows against the manifest) and the restore drill.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::verdict::{damaged, verdict};
use super::{set, Verify};
use crate::catalog::StoredBackup;
use crate::decode::{check_stored, Decoder};
use crate::encode::Identities;
use crate::engine::DatabaseState;
use crate::error::{Error, Result, Setting, Stage};
use crate::evidence::DumpInspector;
use crate::restore::Restore;
use crate::storage::Remote;
use crate::stored::{read_through, Opened};

/// Downloads the object (every part of a set) and compares its size and
/// SHA-256 with the manifest.
pub(super) fn quick(remote: &Remote, backup: &StoredBackup) -> Result<()> {
    if let Some(layout) = set::layout_of(backup) {
        return set::quick(remote, backup, layout);
    }
    let download = remote
        .download(backup.object())
        .map_err(|e| verdict(backup, e))?;
    check_stored(download, &backup.manifest.expected()).map_err(|e| verdict(backup, e))
}

impl Verify {
    /// Restores into `scratch` and compares row counts with the manifest.
    pub(super) fn drill(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        identities: Option<&Arc<Identities>>,
        scratch: &str,
    ) -> Result<String> {
        let manifest = &backup.manifest;
        let opened = Opened::new(remote, backup)?;
        let engine = opened.engine;
        let connection = opened.connect(self.password_file.as_deref())?;
        if engine.kind().database_state(scratch, &connection)? != DatabaseState::Missing {
            return Err(Error::config(
                Setting::Selection,
                format!(
                    "scratch database `{scratch}` exists: a drill creates and drops its own, \
                     name one that does not exist"
                ),
            ));
        }
        let mut restore = Restore::object(backup.object())
            .to_database(scratch)
            .create(true)
            .verify_first(false)
            .progress(Arc::clone(&self.progress))
            .cancel_flag(Arc::clone(&self.cancel));
        if let Some(ids) = identities {
            restore = restore.identities(Arc::clone(ids));
        }
        if let Some(path) = &self.password_file {
            restore = restore.password_file(path);
        }
        let restored = restore
            .run_drill(remote, backup)
            .map_err(|e| verdict(backup, e));
        let counted = restored.and_then(|_| engine.kind().row_counts(scratch, &connection));
        if let Err(e) = engine.kind().drop_database(scratch, &connection) {
            tracing::warn!("could not drop the scratch database {scratch}: {e}");
        }
        let counted = counted?;
        let expected = manifest
            .dump
            .as_ref()
            .map(|d| tables_of(&d.rows, &manifest.database))
            .unwrap_or_default();
        if expected != counted {
            return Err(damaged(
                backup,
                Stage::Rows,
                format!(
                    "the restored tables' row counts {counted:?} differ from the manifest's \
                     {expected:?}"
                ),
            ));
        }
        Ok(format!(
            "restored into {scratch}: {} tables, row counts as in the manifest",
            counted.len()
        ))
    }
    /// Reads the whole stream: age authentication, the compressed stream's
    /// checksums, and the rows and completion line against the manifest.
    pub(super) fn full(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        identities: Option<&Identities>,
    ) -> Result<String> {
        if let Some(layout) = set::layout_of(backup) {
            return self.full_set(remote, backup, layout, identities);
        }
        let decoder = Opened::new(remote, backup)
            .and_then(|opened| opened.decoder(identities))
            .map_err(|e| verdict(backup, e))?;
        let mut reading = self.start_reading(backup);
        let inspector = self
            .inspect(decoder, &mut reading)
            .map_err(|e| verdict(backup, e))?;
        verdict_on_rows(backup, inspector)
    }

    /// Starts reporting the progress of a full read of `backup`.
    pub(super) fn start_reading<'b>(&self, backup: &'b StoredBackup) -> Reading<'b> {
        let label = &backup.manifest.database;
        self.progress.started(label, backup.object());
        self.progress.sized(label, backup.manifest.stored_bytes);
        Reading {
            label,
            clock: Instant::now(),
            last: Instant::now(),
            before: (0, 0),
        }
    }

    /// Reads `decoder` to its end through a dump inspector, reporting
    /// progress every [`PROGRESS_EVERY`] (counting what `reading` read
    /// before: the parts of a set already read).
    pub(super) fn inspect<R: Read>(
        &self,
        decoder: Decoder<R>,
        reading: &mut Reading,
    ) -> Result<DumpInspector> {
        let mut inspector = DumpInspector::new();
        let (raw_before, stored_before) = reading.before;
        let stats = read_through(
            decoder,
            || self.cancelled(),
            |piece, decoder| {
                inspector.update(piece);
                if reading.last.elapsed() >= PROGRESS_EVERY {
                    reading.last = Instant::now();
                    let raw = raw_before + decoder.raw_bytes();
                    let stored = stored_before + decoder.stored_bytes();
                    let elapsed = reading.clock.elapsed();
                    self.progress.advanced(reading.label, raw, stored, elapsed);
                }
            },
        )?;
        reading.before = (
            raw_before + stats.raw_bytes,
            stored_before + stats.stored_bytes,
        );
        Ok(inspector)
    }
}

/// The progress of one full read: of one object, or of every part of a set.
pub(super) struct Reading<'a> {
    label: &'a str,
    clock: Instant,
    last: Instant,
    /// Raw and stored bytes read before (the parts of a set already read).
    before: (u64, u64),
}

/// Table row counts as a restored database names its tables: the manifest
/// of a MariaDB dump keys them `db.table` (after the dump's `USE`).
fn tables_of(rows: &BTreeMap<String, u64>, database: &str) -> BTreeMap<String, u64> {
    let prefix = format!("{database}.");
    rows.iter()
        .map(|(table, n)| {
            let table = table.strip_prefix(&prefix).unwrap_or(table);
            (table.to_string(), *n)
        })
        .collect()
}

/// How often progress is reported while a backup is read.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// What a full read saw, against the manifest's rows and completion line.
fn verdict_on_rows(backup: &StoredBackup, inspector: DumpInspector) -> Result<String> {
    let manifest = &backup.manifest;
    let seen = inspector.finish();
    let Some(recorded) = &manifest.dump else {
        return Ok(
            "decrypted and decompressed in full (a format 1 manifest records no rows)".into(),
        );
    };
    if seen.completion_line != recorded.completion_line {
        return Err(damaged(
            backup,
            Stage::Rows,
            format!(
                "completion line seen: {:?}, manifest: {:?}",
                seen.completion_line, recorded.completion_line
            ),
        ));
    }
    if seen.rows != recorded.rows {
        return Err(damaged(
            backup,
            Stage::Rows,
            "the rows per table differ from the manifest's".to_string(),
        ));
    }
    Ok(format!(
        "decrypted and decompressed in full; {} tables, {} rows and the completion line as in the manifest",
        seen.rows.len(),
        seen.rows.values().sum::<u64>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_table_keys_lose_their_database() {
        let rows: BTreeMap<String, u64> =
            [("shop.items".to_string(), 3), ("other".to_string(), 1)].into();
        let tables = tables_of(&rows, "shop");
        assert_eq!(
            tables,
            [("items".to_string(), 3), ("other".to_string(), 1)].into()
        );
    }
}
