//! What one run did, in one serialisable value: the JSON body of webhook
//! notifications, the text of a failure ping, and the source of metrics.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use dbbr::{Engine, Error, Report, RunId, VerifyReport};

/// A run's outcome, as notifications and metrics report it (schema 1, see
/// "Notifications" in docs/operations.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// Format version of this document.
    pub schema: u32,
    /// The run's id, as in its log lines and manifests.
    pub run_id: String,
    /// What the run did: `backup` (then prune and verify, as set) or
    /// `verify` (a scheduled verification).
    pub kind: String,
    /// `postgresql` or `mariadb`.
    pub engine: String,
    /// Whether everything the run did succeeded.
    pub ok: bool,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Its wall time.
    pub duration_seconds: f64,
    /// One entry per database backed up.
    pub databases: Vec<DatabaseSummary>,
    /// The prune after the backup, when a keep policy is set.
    pub prune: Option<PruneSummary>,
    /// The backups verified after the backup (or on the verify schedule).
    pub verified: Vec<VerifiedSummary>,
    /// Why the run as a whole failed (rejected settings, an interruption),
    /// when it did not get to the databases.
    pub error: Option<String>,
}

/// One database's backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DatabaseSummary {
    /// The database, or `all`.
    pub database: String,
    /// Whether it was backed up.
    pub ok: bool,
    /// The data object's name (relative to the remote path and prefix).
    pub object: Option<String>,
    /// Bytes the dump tool produced (on success).
    pub raw_bytes: Option<u64>,
    /// Bytes stored (on success).
    pub stored_bytes: Option<u64>,
    /// SHA-256 of the stored bytes (on success).
    pub sha256: Option<String>,
    /// Wall time of the backup (on success).
    pub duration_seconds: Option<f64>,
    /// The objects of a parallel backup set (a set is one backup of its
    /// parts); absent for a backup of one object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<usize>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The prune after a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PruneSummary {
    /// Whether it succeeded.
    pub ok: bool,
    /// The backups (data objects) it removed.
    pub removed: Vec<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// One verified backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerifiedSummary {
    /// Its engine.
    pub engine: String,
    /// Its database.
    pub database: String,
    /// Its data object.
    pub object: String,
    /// Whether it passed.
    pub ok: bool,
    /// The level reached: `quick`, `full` or `restore`.
    pub level: String,
    /// What was proven, or what failed.
    pub detail: String,
    /// When the check ended.
    pub verified_at: DateTime<Utc>,
}

impl RunSummary {
    /// The current schema.
    pub const SCHEMA: u32 = 1;

    /// An empty summary of a run of `engine` that started at `started_at`
    /// and ends now.
    pub fn new(run_id: &RunId, engine: Engine, started_at: DateTime<Utc>) -> RunSummary {
        let finished_at = Utc::now();
        RunSummary {
            schema: Self::SCHEMA,
            run_id: run_id.to_string(),
            kind: "backup".into(),
            engine: engine.name().to_string(),
            ok: true,
            started_at,
            finished_at,
            duration_seconds: seconds(started_at, finished_at),
            databases: Vec::new(),
            prune: None,
            verified: Vec::new(),
            error: None,
        }
    }

    /// The summary of a backup run that returned `report`.
    pub fn of_backup(engine: Engine, started_at: DateTime<Utc>, report: &Report) -> RunSummary {
        let mut summary = RunSummary::new(&report.run_id, engine, started_at);
        summary.databases = report
            .databases
            .iter()
            .map(|d| match &d.result {
                Ok(s) => DatabaseSummary {
                    database: d.database.clone(),
                    ok: true,
                    object: d.object.clone(),
                    raw_bytes: Some(s.raw_bytes),
                    stored_bytes: Some(s.stored_bytes),
                    sha256: Some(s.sha256.clone()),
                    duration_seconds: Some(s.elapsed.as_secs_f64()),
                    parts: (s.parts > 0).then_some(s.parts),
                    error: None,
                },
                Err(e) => DatabaseSummary {
                    database: d.database.clone(),
                    ok: false,
                    object: d.object.clone(),
                    raw_bytes: None,
                    stored_bytes: None,
                    sha256: None,
                    duration_seconds: None,
                    parts: None,
                    error: Some(e.to_string()),
                },
            })
            .collect();
        summary.prune = report.prune.as_ref().map(|p| match p {
            Ok(pruned) => PruneSummary {
                ok: true,
                removed: pruned
                    .decisions
                    .iter()
                    .filter(|d| !d.keep)
                    .map(|d| d.object.clone())
                    .collect(),
                error: None,
            },
            Err(e) => PruneSummary {
                ok: false,
                removed: Vec::new(),
                error: Some(e.to_string()),
            },
        });
        summary.update_ok();
        summary
    }

    /// The summary of a run that failed as a whole with `error`.
    pub fn of_error(
        run_id: &RunId,
        engine: Engine,
        started_at: DateTime<Utc>,
        error: &Error,
    ) -> RunSummary {
        let mut summary = RunSummary::new(run_id, engine, started_at);
        summary.error = Some(error.to_string());
        summary.ok = false;
        summary
    }

    /// The summary of a verification run of `engine`'s backups.
    pub fn of_verify(
        run_id: &RunId,
        engine: Engine,
        started_at: DateTime<Utc>,
        report: &VerifyReport,
    ) -> RunSummary {
        let mut summary = RunSummary::new(run_id, engine, started_at);
        summary.kind = "verify".into();
        summary.add_verify(report);
        summary
    }

    /// Adds the outcome of a verification (its failures fail the run).
    pub fn add_verify(&mut self, report: &VerifyReport) {
        let now = Utc::now();
        self.verified
            .extend(report.backups.iter().map(|b| VerifiedSummary {
                engine: b.engine.clone(),
                database: b.database.clone(),
                object: b.object.clone(),
                ok: b.result.is_ok(),
                level: b.level.to_string(),
                detail: match &b.result {
                    Ok(detail) => detail.clone(),
                    Err(e) => e.to_string(),
                },
                verified_at: now,
            }));
        self.update_ok();
    }

    /// Records a failure of the run as a whole (e.g. a verification that
    /// could not start), keeping what was done before it.
    pub fn add_error(&mut self, error: &Error) {
        let text = error.to_string();
        self.error = Some(match self.error.take() {
            Some(earlier) => format!("{earlier}; {text}"),
            None => text,
        });
        self.ok = false;
    }

    /// Marks the end of the run now.
    pub fn finish(&mut self) {
        self.finished_at = Utc::now();
        self.duration_seconds = seconds(self.started_at, self.finished_at);
        self.update_ok();
    }

    fn update_ok(&mut self) {
        self.ok = self.error.is_none()
            && self.databases.iter().all(|d| d.ok)
            && self.prune.as_ref().is_none_or(|p| p.ok)
            && self.verified.iter().all(|v| v.ok);
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary always serialises")
    }

    /// A few lines for people: the run, then one line per database,
    /// verification and prune.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "dbbr {} {} run {}: {} in {:.1}s\n",
            self.engine,
            self.kind,
            self.run_id,
            if self.ok { "ok" } else { "FAILED" },
            self.duration_seconds
        );
        if let Some(e) = &self.error {
            out.push_str(&format!("error: {e}\n"));
        }
        for d in &self.databases {
            let object = d.object.as_deref().unwrap_or("-");
            match &d.error {
                None => out.push_str(&format!(
                    "{}: ok, {} bytes stored -> {object}\n",
                    d.database,
                    d.stored_bytes.unwrap_or(0)
                )),
                Some(e) => out.push_str(&format!("{}: FAILED: {e}\n", d.database)),
            }
        }
        for v in &self.verified {
            let verdict = if v.ok { "verified" } else { "verify FAILED" };
            out.push_str(&format!(
                "{}: {verdict} ({}) {}: {}\n",
                v.database, v.level, v.object, v.detail
            ));
        }
        if let Some(p) = &self.prune {
            match &p.error {
                None => out.push_str(&format!("prune: removed {}\n", p.removed.len())),
                Some(e) => out.push_str(&format!("prune FAILED: {e}\n")),
            }
        }
        out
    }
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbbr::cli::samples;
    use std::time::Duration;

    fn report() -> Report {
        samples::report(vec![
            samples::database_report(
                "app",
                Some("app.sql.gz"),
                Ok(samples::backup_stats(100, 40, Duration::from_millis(1500))),
            ),
            samples::database_report(
                "billing",
                Some("billing.sql.gz"),
                Err(Error::Dump {
                    database: "billing".into(),
                    message: "exit status 1".into(),
                }),
            ),
        ])
    }

    #[test]
    fn a_backup_report_becomes_a_summary() {
        let report = report();
        let s = RunSummary::of_backup(Engine::Postgres, Utc::now(), &report);
        assert_eq!(s.run_id, report.run_id.as_str());
        assert!(!s.ok);
        assert_eq!(s.databases[0].stored_bytes, Some(40));
        assert_eq!(s.databases[0].duration_seconds, Some(1.5));
        assert!(s.databases[1]
            .error
            .as_deref()
            .unwrap()
            .contains("exit status 1"));
        let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["engine"], "postgresql");
        assert_eq!(json["databases"][1]["ok"], false);
        let text = s.to_text();
        assert!(
            text.contains("FAILED") && text.contains("billing: FAILED"),
            "{text}"
        );
    }

    #[test]
    fn a_run_level_error_fails_the_run() {
        let mut s = RunSummary::new(&RunId::new(), Engine::MariaDb, Utc::now());
        s.finish();
        assert!(s.ok);
        s.add_error(&Error::Interrupted);
        s.finish();
        assert!(!s.ok);
        assert!(s.to_text().contains("interrupted"));
    }
}
