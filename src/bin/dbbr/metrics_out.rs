//! Publishing a run's metrics: a textfile for node_exporter
//! (`METRICS_TEXTFILE`) and/or a Pushgateway (`METRICS_PUSHGATEWAY_URL`).
//! A failure is logged and changes nothing else.

use std::path::PathBuf;
use std::time::Instant;

use crate::metrics::Metrics;
use crate::summary::RunSummary;
use base64::Engine as _;
use chrono::Utc;
use clap::Args;
use dbbr::{Engine, RunId, VerifyReport};

use crate::http::Endpoint;

/// Where metrics go.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Prometheus textfile to merge this run's metrics into (replaced
    /// atomically), e.g. for node_exporter's textfile collector.
    #[arg(long, env = "METRICS_TEXTFILE")]
    pub metrics_textfile: Option<PathBuf>,
    /// Pushgateway base URL (http://host:9091): metrics are pushed to
    /// /metrics/job/dbbr/engine@base64/E/database@base64/D.
    #[arg(long, env = "METRICS_PUSHGATEWAY_URL", hide_env_values = true, value_parser = crate::settings::text())]
    pub metrics_pushgateway_url: Option<String>,
}

/// Validated metrics settings.
#[derive(Debug, Clone)]
pub struct MetricsSink {
    textfile: Option<PathBuf>,
    pushgateway: Option<Endpoint>,
}

impl MetricsSink {
    /// Checks the settings (before any I/O); the error names the variable.
    pub fn new(args: &MetricsArgs) -> Result<MetricsSink, String> {
        let textfile = args
            .metrics_textfile
            .clone()
            .filter(|p| !p.as_os_str().is_empty());
        if let Some(path) = &textfile {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if path.is_dir() || dir.is_some_and(|d| !d.is_dir()) {
                return Err(format!(
                    "METRICS_TEXTFILE {} must name a file in an existing directory",
                    path.display()
                ));
            }
        }
        let pushgateway = args
            .metrics_pushgateway_url
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Endpoint::parse("METRICS_PUSHGATEWAY_URL", v))
            .transpose()?;
        Ok(MetricsSink {
            textfile,
            pushgateway,
        })
    }

    /// Writes and pushes the metrics of `summary`; the pushes are done by
    /// `deadline`, all of them.
    pub fn publish(&self, summary: &RunSummary, deadline: Instant) {
        let metrics = Metrics::from_summary(summary);
        if metrics.is_empty() {
            return;
        }
        if let Some(path) = &self.textfile {
            match metrics.write_textfile(path) {
                Ok(()) => tracing::debug!("metrics written to {}", path.display()),
                Err(e) => tracing::warn!("metrics not written: {e}"),
            }
        }
        if let Some(gateway) = &self.pushgateway {
            for (engine, database) in metrics.groups() {
                let group = format!(
                    "/metrics/job/dbbr/engine@base64/{}/database@base64/{}",
                    label(&engine),
                    label(&database)
                );
                // POST replaces only the metrics pushed: a failed run keeps
                // the group's last success.
                let body = metrics.render_group(&engine, &database);
                let url = gateway.with_path_suffix(&group);
                if let Err(e) = url.post("text/plain; version=0.0.4", &body, deadline) {
                    tracing::warn!("metrics not pushed: {}", dbbr::redact(&e));
                }
            }
        }
    }

    /// Publishes the metrics of a `dbbr verify` run (when METRICS_* are
    /// set).
    pub fn publish_verify(&self, run_id: &RunId, report: &VerifyReport) {
        let engine = report
            .backups
            .first()
            .and_then(|b| Engine::from_name(&b.engine))
            .unwrap_or(Engine::Postgres);
        let mut summary = RunSummary::of_verify(run_id, engine, Utc::now(), report);
        summary.finish();
        self.publish(&summary, crate::http::deadline());
    }
}

/// A label value for a Pushgateway path (base64url, `=` for empty).
fn label(value: &str) -> String {
    if value.is_empty() {
        "=".into()
    } else {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
    }
}
