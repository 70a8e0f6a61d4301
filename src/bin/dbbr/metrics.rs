//! Prometheus metrics of backups and verifications, per engine and
//! database, in the text exposition format: written to a file for
//! node_exporter's textfile collector (merged with what the file held, so
//! that a failed run keeps the last success's values) or pushed to a
//! Pushgateway, one group per engine and database.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use dbbr::{Error, Result};

use crate::summary::RunSummary;

/// Every metric dbbr writes: name, help.
const METRICS: &[(&str, &str)] = &[
    (
        "dbbr_backup_last_attempt_timestamp_seconds",
        "When the last backup of the database ended, in Unix seconds.",
    ),
    (
        "dbbr_backup_last_result",
        "Whether the last backup of the database succeeded (1) or failed (0).",
    ),
    (
        "dbbr_backup_last_success_timestamp_seconds",
        "When the last successful backup of the database ended, in Unix seconds.",
    ),
    (
        "dbbr_backup_duration_seconds",
        "Wall time of the last successful backup of the database.",
    ),
    (
        "dbbr_backup_raw_bytes",
        "Bytes the dump tool produced in the last successful backup.",
    ),
    (
        "dbbr_backup_stored_bytes",
        "Bytes stored (compressed, encrypted) by the last successful backup.",
    ),
    (
        "dbbr_backup_parts",
        "Objects of the last successful backup: 1, or the parts of a parallel set.",
    ),
    (
        "dbbr_backup_last_run_info",
        "The run id of the last backup of the database (value 1).",
    ),
    (
        "dbbr_verify_last_attempt_timestamp_seconds",
        "When the last verification of the database's backup ended, in Unix seconds.",
    ),
    (
        "dbbr_verify_last_result",
        "Whether the last verification passed (1) or failed (0).",
    ),
    (
        "dbbr_verify_last_success_timestamp_seconds",
        "When a backup of the database was last proven, in Unix seconds.",
    ),
    (
        "dbbr_verify_level",
        "How far the last passed verification went: 1 quick, 2 full, 3 restore drill.",
    ),
    (
        "dbbr_verify_last_run_info",
        "The run id of the last verification of the database (value 1).",
    ),
];

/// One series: metric name, engine, database, extra labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    name: String,
    engine: String,
    database: String,
}

/// A set of series keyed by metric name, engine and database (a newer value
/// for the same key replaces the older, whatever its other labels).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    series: BTreeMap<Key, (Vec<(String, String)>, f64)>,
}

impl Metrics {
    /// The metrics of `summary`: attempts and results of every database,
    /// and sizes, durations and success times of those that succeeded.
    pub fn from_summary(summary: &RunSummary) -> Metrics {
        let mut m = Metrics::default();
        let now = summary.finished_at.timestamp() as f64;
        let run = vec![("run_id".to_string(), summary.run_id.clone())];
        for d in &summary.databases {
            let (e, db) = (summary.engine.as_str(), d.database.as_str());
            m.set("dbbr_backup_last_attempt_timestamp_seconds", e, db, now);
            m.set("dbbr_backup_last_result", e, db, f64::from(u8::from(d.ok)));
            m.set_labelled("dbbr_backup_last_run_info", e, db, run.clone(), 1.0);
            if d.ok {
                m.set("dbbr_backup_last_success_timestamp_seconds", e, db, now);
                let seconds = d.duration_seconds.unwrap_or_default();
                m.set("dbbr_backup_duration_seconds", e, db, seconds);
                let raw = d.raw_bytes.unwrap_or_default() as f64;
                m.set("dbbr_backup_raw_bytes", e, db, raw);
                let stored = d.stored_bytes.unwrap_or_default() as f64;
                m.set("dbbr_backup_stored_bytes", e, db, stored);
                let parts = d.parts.unwrap_or(1) as f64;
                m.set("dbbr_backup_parts", e, db, parts);
            }
        }
        for v in &summary.verified {
            let (e, db) = (v.engine.as_str(), v.database.as_str());
            let at = v.verified_at.timestamp() as f64;
            m.set("dbbr_verify_last_attempt_timestamp_seconds", e, db, at);
            m.set("dbbr_verify_last_result", e, db, f64::from(u8::from(v.ok)));
            m.set_labelled("dbbr_verify_last_run_info", e, db, run.clone(), 1.0);
            if v.ok {
                m.set("dbbr_verify_last_success_timestamp_seconds", e, db, at);
                let level = match v.level.as_str() {
                    "quick" => 1.0,
                    "full" => 2.0,
                    _ => 3.0,
                };
                m.set("dbbr_verify_level", e, db, level);
            }
        }
        m
    }

    fn set(&mut self, name: &str, engine: &str, database: &str, value: f64) {
        self.set_labelled(name, engine, database, Vec::new(), value);
    }

    fn set_labelled(
        &mut self,
        name: &str,
        engine: &str,
        database: &str,
        labels: Vec<(String, String)>,
        value: f64,
    ) {
        let key = Key {
            name: name.into(),
            engine: engine.into(),
            database: database.into(),
        };
        self.series.insert(key, (labels, value));
    }

    /// Whether there is no series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// `newer`'s series over these.
    pub fn merge(&mut self, newer: Metrics) {
        self.series.extend(newer.series);
    }

    /// Reads back what [`Metrics::render`] wrote; lines it cannot read
    /// (other metrics, comments) are left out.
    pub fn parse(text: &str) -> Metrics {
        let mut m = Metrics::default();
        for line in text.lines().filter(|l| l.starts_with("dbbr_")) {
            let Some((name, rest)) = line.split_once('{') else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let Ok(value) = value.trim().parse::<f64>() else {
                continue;
            };
            let mut labels = parse_labels(labels);
            let mut take = |label: &str| {
                let at = labels.iter().position(|(k, _)| k == label)?;
                Some(labels.remove(at).1)
            };
            let (Some(engine), Some(database)) = (take("engine"), take("database")) else {
                continue;
            };
            m.set_labelled(name, &engine, &database, labels, value);
        }
        m
    }

    /// The Prometheus text format, `# HELP` and `# TYPE` before each metric.
    pub fn render(&self) -> String {
        self.render_filtered(|_| true, true)
    }

    /// The (engine, database) pairs that have series, for a Pushgateway's
    /// groups.
    pub fn groups(&self) -> Vec<(String, String)> {
        let mut groups: Vec<(String, String)> = self
            .series
            .keys()
            .map(|k| (k.engine.clone(), k.database.clone()))
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// The series of one group, without the `engine` and `database` labels
    /// (a Pushgateway adds them from the group's key).
    pub fn render_group(&self, engine: &str, database: &str) -> String {
        self.render_filtered(|k| k.engine == engine && k.database == database, false)
    }

    fn render_filtered(&self, keep: impl Fn(&Key) -> bool, with_key: bool) -> String {
        let mut out = String::new();
        for (name, help) in METRICS {
            let rows: Vec<_> = self
                .series
                .iter()
                .filter(|(k, _)| k.name == *name && keep(k))
                .collect();
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            for (key, (extra, value)) in rows {
                let mut labels: Vec<(&str, &str)> = Vec::new();
                if with_key {
                    labels.push(("engine", &key.engine));
                    labels.push(("database", &key.database));
                }
                labels.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                if labels.is_empty() {
                    out.push_str(&format!("{name} {value}\n"));
                } else {
                    out.push_str(&format!("{name}{{{}}} {value}\n", labels.join(",")));
                }
            }
        }
        out
    }

    /// Merges these series into the textfile at `path` (keeping the
    /// series of other databases and the last success of this one) and
    /// replaces it atomically: written to a temporary file in the same
    /// directory, then renamed over it.
    pub fn write_textfile(&self, path: &Path) -> Result<()> {
        let fail = |what: &str, e: std::io::Error| {
            Error::io(format!("{what} the metrics file {}", path.display()), e)
        };
        let mut all = match std::fs::read_to_string(path) {
            Ok(text) => Metrics::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Metrics::default(),
            Err(e) => return Err(fail("reading", e)),
        };
        all.merge(self.clone());
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map_or_else(|| "metrics".into(), |n| n.to_string_lossy().into_owned());
        // node_exporter reads only `*.prom`: the temporary name is not one.
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&temp).and_then(|mut f| {
            f.write_all(all.render().as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
            let _ = std::fs::remove_file(&temp);
            return Err(fail("writing", e));
        }
        Ok(())
    }
}

/// A label value escaped for the text format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `a="x",b="y"` into pairs, undoing [`escape`].
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() || chars.next() != Some('"') {
            return out;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        out.push((name.trim_start_matches(',').trim().to_string(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use dbbr::cli::samples;
    use dbbr::Engine;
    use std::time::Duration;

    fn summary(ok: bool, database: &str) -> RunSummary {
        let result = if ok {
            Ok(samples::backup_stats(1000, 300, Duration::from_secs(2)))
        } else {
            Err(Error::Interrupted)
        };
        let report = samples::report(vec![samples::database_report(database, None, result)]);
        RunSummary::of_backup(Engine::Postgres, Utc::now(), &report)
    }

    #[test]
    fn render_and_parse_round_trip() {
        let m = Metrics::from_summary(&summary(true, "we\"ird\\db"));
        let text = m.render();
        assert!(
            text.contains("# TYPE dbbr_backup_stored_bytes gauge"),
            "{text}"
        );
        assert!(
            text.contains(
                "dbbr_backup_stored_bytes{engine=\"postgresql\",database=\"we\\\"ird\\\\db\"} 300"
            ),
            "{text}"
        );
        assert_eq!(Metrics::parse(&text), m);
    }

    #[test]
    fn a_failure_keeps_the_last_success() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dbbr.prom");
        let ok = summary(true, "app");
        Metrics::from_summary(&ok).write_textfile(&file).unwrap();
        Metrics::from_summary(&summary(true, "other"))
            .write_textfile(&file)
            .unwrap();
        let failed = summary(false, "app");
        Metrics::from_summary(&failed)
            .write_textfile(&file)
            .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let app = |name: &str| format!("{name}{{engine=\"postgresql\",database=\"app\"}}");
        assert!(
            text.contains(&format!("{} 0\n", app("dbbr_backup_last_result"))),
            "{text}"
        );
        assert!(
            text.contains(&format!("{} 300\n", app("dbbr_backup_stored_bytes"))),
            "{text}"
        );
        assert!(
            text.contains(&format!("run_id=\"{}\"", failed.run_id)),
            "{text}"
        );
        assert!(!text.contains(&ok.run_id), "{text}");
        assert!(text.contains("database=\"other\""), "{text}");
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left");
    }

    #[test]
    fn groups_leave_out_their_key() {
        let m = Metrics::from_summary(&summary(true, "app"));
        assert_eq!(m.groups(), [("postgresql".to_string(), "app".to_string())]);
        let text = m.render_group("postgresql", "app");
        assert!(text.contains("\ndbbr_backup_raw_bytes 1000\n"), "{text}");
        assert!(!text.contains("engine="), "{text}");
    }
}
