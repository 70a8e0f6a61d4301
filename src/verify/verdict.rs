//! Verdicts: a failure that says a backup is damaged, told apart from one
//! of the environment it is checked in (storage, identity, database).

use crate::catalog::StoredBackup;
use crate::error::{Error, Result, Stage};
use crate::manifest::VerifyLevel;

/// What checking one backup gave.
pub(super) enum Outcome {
    /// A verdict about the backup, at the level reached.
    Verdict(VerifyLevel, Result<String>),
    /// The check could not be made: not the backup's fault.
    Environment(Error),
}

impl Outcome {
    /// A check's result: a failure that says the backup is damaged is a
    /// verdict; anything else (storage, identity, database, settings, a
    /// signal) is the environment's.
    pub(super) fn of(level: VerifyLevel, result: Result<String>) -> Outcome {
        match result {
            Ok(detail) => Outcome::Verdict(level, Ok(detail)),
            Err(e @ Error::Damaged { .. }) => Outcome::Verdict(level, Err(e)),
            Err(e) => Outcome::Environment(e),
        }
    }
}

/// Whether `e` is a failure to decrypt (which a wrong identity also gives).
pub(super) fn decrypt_failed(e: &Error) -> bool {
    matches!(e, Error::Damaged { stage, .. } if *stage == Stage::Decrypt)
}

/// A verdict: `backup` is damaged at `stage`.
pub(super) fn damaged(backup: &StoredBackup, stage: Stage, message: String) -> Error {
    Error::Damaged {
        backup: backup.object().into(),
        stage,
        message,
    }
}

/// A decoding failure as a verdict about `backup` (integrity, decrypt,
/// decompress); a failed download (storage) as it is.
pub(super) fn verdict(backup: &StoredBackup, e: Error) -> Error {
    match e {
        Error::Decode { stage, message } if stage != Stage::Download => Error::Damaged {
            backup: backup.object().into(),
            stage,
            message,
        },
        Error::Restore { stage, message, .. }
            if stage != Stage::Download && !message.contains("not found") =>
        {
            Error::Damaged {
                backup: backup.object().into(),
                stage,
                message,
            }
        }
        // Listed, then gone: the object is missing.
        Error::NotFound(message) => Error::Damaged {
            backup: backup.object().into(),
            stage: Stage::Object,
            message,
        },
        other => other,
    }
}
