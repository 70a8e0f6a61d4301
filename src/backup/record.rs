//! The manifest a backup writes once its data object has committed.

use chrono::{DateTime, Utc};

use super::{kind_of, RunContext};
use std::io::Write;

use crate::encode::{Codec, EncodeStats};
use crate::engine::Target;
use crate::error::{Error, Result};
use crate::evidence::Evidence;
use crate::manifest::{Kind, Manifest, MANIFEST_LIMIT};

/// The versions of the server and dump tool a run talks to, as probed once
/// per run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Versions {
    /// The server's version.
    pub server: Option<String>,
    /// The dump tool's `--version` line.
    pub dump_tool: Option<String>,
}

impl RunContext<'_> {
    /// The manifest of `object`, the backup of `target` written with
    /// `codec` from `started_at` until now, that `stats` and `evidence`
    /// describe.
    pub(super) fn manifest(
        &self,
        target: &Target,
        object: &str,
        codec: Codec,
        started_at: DateTime<Utc>,
        stats: &EncodeStats,
        evidence: Evidence,
    ) -> Manifest {
        let plan = self.plan;
        let kind = kind_of(target);
        Manifest {
            set: None,
            format: Manifest::FORMAT,
            dbbr_version: env!("CARGO_PKG_VERSION").into(),
            rclone_version: crate::storage::rclone_version().into(),
            engine: plan.engine.name().into(),
            declared_kind: Some(kind),
            database: target.label().into(),
            object: object.into(),
            server_version: self.versions.server.clone(),
            dump_tool: self.versions.dump_tool.clone(),
            started_at,
            finished_at: Utc::now(),
            raw_bytes: stats.raw_bytes,
            stored_bytes: stats.stored_bytes,
            sha256: stats.sha256.clone(),
            codec: codec.name().into(),
            encrypted: plan.recipients.is_some(),
            recipients: plan
                .recipients
                .as_ref()
                .map(|r| r.fingerprints().to_vec())
                .unwrap_or_default(),
            dump: Some(evidence),
            run_id: Some(self.run_id.to_string()),
            globals: kind == Kind::Globals,
        }
    }

    /// Writes `manifest` as `name`: one that dbbr could not read back (larger
    /// than [`MANIFEST_LIMIT`]) is an error before any write, and the backup
    /// fails rather than leave a backup no command can use.
    pub(super) fn write_manifest(&self, name: &str, manifest: &Manifest) -> Result<()> {
        let json = manifest.to_json();
        if json.len() as u64 > MANIFEST_LIMIT {
            return Err(Error::Storage(format!(
                "the manifest {name} would be {} bytes, more than dbbr reads ({} MiB): back the \
                 database up in parts (BACKUP_DATABASES, or -n/-t after --)",
                json.len(),
                MANIFEST_LIMIT >> 20
            )));
        }
        let mut upload = self.plan.remote.upload(name)?;
        upload
            .write_all(json.as_bytes())
            .map_err(|e| Error::io(format!("writing {name}"), e))?;
        match upload.commit() {
            Ok(_) => Ok(()),
            // A write whose first try landed but whose answer was lost is
            // tried again and refused, as the name is taken: by this very
            // manifest (its run id and times make it this run's alone), if
            // what is stored there is byte for byte what was written.
            Err(Error::Exists(message))
                if crate::catalog::read_small(&self.plan.remote, name)
                    .is_ok_and(|stored| stored == json.as_bytes()) =>
            {
                tracing::debug!("{name} was stored by a try whose answer was lost: {message}");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
