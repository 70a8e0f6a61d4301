//! Verifying a parallel backup set: the same levels as a single object,
//! part by part. Quick: every part is there with the size and SHA-256 its
//! manifest records (and the manifest's hash is the hash of those).
//! Full: every part decrypted and decompressed to its end, its raw size and
//! SHA-256 as recorded, its rows per table as recorded, pg_dump's
//! completion line at the end of the schema and data parts, and the
//! post-data part a custom archive. A verdict names the failing part.

use crate::catalog::StoredBackup;
use crate::decode::check_stored;
use crate::encode::Identities;
use crate::error::{Error, Result, Stage};
use crate::evidence::{DumpFormat, DumpInspector};
use crate::manifest::{Section, SetLayout, SetPart};
use crate::storage::Remote;
use crate::stored::Opened;

use super::verdict::{damaged, verdict};
use super::Verify;

/// The set layout of `backup`, if it is a set.
pub(super) fn layout_of(backup: &StoredBackup) -> Option<&SetLayout> {
    backup
        .manifest
        .set
        .as_ref()
        .filter(|_| backup.kind() == crate::manifest::Kind::Set)
}

/// Every part is there, with the size and SHA-256 the manifest records.
pub(super) fn quick(remote: &Remote, backup: &StoredBackup, layout: &SetLayout) -> Result<()> {
    digest_matches(backup, layout)?;
    for part in &layout.parts {
        stop_if_interrupted()?;
        let download = remote
            .download(&part.object)
            .map_err(|e| part_verdict(backup, part, e))?;
        check_stored(download, &part.expected()).map_err(|e| part_verdict(backup, part, e))?;
    }
    Ok(())
}

/// The manifest's `sha256` is its parts' digest: a manifest edited by
/// hand (a part's record changed) is not the one the run wrote.
fn digest_matches(backup: &StoredBackup, layout: &SetLayout) -> Result<()> {
    let digest = layout.digest();
    if digest != backup.manifest.sha256 {
        return Err(damaged(
            backup,
            Stage::Manifest,
            format!(
                "the set's sha256 {} is not the digest of its parts ({digest})",
                backup.manifest.sha256
            ),
        ));
    }
    Ok(())
}

impl Verify {
    /// Reads every part in full, as [`Verify::full`] reads one object.
    pub(super) fn full_set(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        layout: &SetLayout,
        identities: Option<&Identities>,
    ) -> Result<String> {
        digest_matches(backup, layout)?;
        let opened = Opened::new(remote, backup).map_err(|e| verdict(backup, e))?;
        let mut reading = self.start_reading(backup);
        for part in &layout.parts {
            let decoder = opened
                .part_decoder(part, identities)
                .map_err(|e| part_verdict(backup, part, e))?;
            let inspector = self
                .inspect(decoder, &mut reading)
                .map_err(|e| part_verdict(backup, part, e))?;
            part_content(backup, part, inspector)?;
        }
        let rows = layout.rows();
        Ok(format!(
            "decrypted and decompressed in full; {} parts, {} tables, {} rows and the \
             completion lines as in the manifest",
            layout.parts.len(),
            rows.len(),
            rows.values().sum::<u64>()
        ))
    }
}

/// What a full read of `part` saw, against what its section holds and the
/// rows the manifest records for it.
fn part_content(backup: &StoredBackup, part: &SetPart, inspector: DumpInspector) -> Result<()> {
    let seen = inspector.finish();
    let wrong = |stage: Stage, message: String| {
        Err(damaged(
            backup,
            stage,
            format!("part {}: {message}", part.object),
        ))
    };
    let format = match part.section {
        Section::PostData => DumpFormat::Custom,
        _ => DumpFormat::Plain,
    };
    if seen.format != format {
        return wrong(
            Stage::Integrity,
            format!("a {:?} dump, expected {format:?}", seen.format),
        );
    }
    let from_pg_dump = matches!(part.section, Section::PreData | Section::Data);
    if from_pg_dump && seen.completion_line != Some(true) {
        return wrong(
            Stage::Rows,
            "pg_dump's completion line is missing: the part is incomplete".into(),
        );
    }
    if seen.rows != part.rows {
        return wrong(
            Stage::Rows,
            format!(
                "rows per table {:?} differ from the manifest's {:?}",
                seen.rows, part.rows
            ),
        );
    }
    Ok(())
}

/// A failure while reading `part`: a verdict about `backup` naming the
/// part, or the environment's error as it is.
pub(super) fn part_verdict(backup: &StoredBackup, part: &SetPart, e: Error) -> Error {
    match verdict(backup, e) {
        Error::Damaged {
            backup,
            stage,
            message,
        } => Error::Damaged {
            backup,
            stage,
            message: format!("part {}: {message}", part.object),
        },
        other => other,
    }
}

fn stop_if_interrupted() -> Result<()> {
    if crate::interrupt::interrupted() {
        return Err(Error::Interrupted);
    }
    Ok(())
}
