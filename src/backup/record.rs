//! The manifest a backup writes once its data object has committed.

use chrono::{DateTime, Utc};

use super::{kind_of, RunContext};
use crate::encode::{Codec, EncodeStats};
use crate::engine::Target;
use crate::evidence::Evidence;
use crate::manifest::{Kind, Manifest};

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
}
