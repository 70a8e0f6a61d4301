//! Notifications after a run: healthchecks-style pings (`NOTIFY_PING_URL`:
//! `/start`, the URL itself on success, `/fail` with the summary) and a
//! JSON webhook (`NOTIFY_WEBHOOK_URL`, `NOTIFY_ON`). A failed notification
//! is logged and changes nothing else.

use clap::{Args, ValueEnum};
use dbbr::{RunId, RunSummary};

use crate::http::Endpoint;

/// When the webhook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotifyOn {
    /// After every run.
    Always,
    /// After a run that failed.
    Failure,
}

/// Where notifications go.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// Healthchecks-style ping URL: URL/start when a run starts, URL on
    /// success, URL/fail (with the summary) on failure.
    #[arg(long, env = "NOTIFY_PING_URL", hide_env_values = true)]
    pub notify_ping_url: Option<String>,
    /// URL that receives the run's JSON summary (POST).
    #[arg(long, env = "NOTIFY_WEBHOOK_URL", hide_env_values = true)]
    pub notify_webhook_url: Option<String>,
    /// When the webhook is called.
    #[arg(long, env = "NOTIFY_ON", value_enum, default_value = "always")]
    pub notify_on: NotifyOn,
}

/// Validated notification settings.
#[derive(Debug, Clone)]
pub struct Notifier {
    ping: Option<Endpoint>,
    webhook: Option<Endpoint>,
    on: NotifyOn,
}

impl Notifier {
    /// Checks the URLs (before any I/O); the error names the variable.
    pub fn new(args: &NotifyArgs) -> Result<Notifier, String> {
        let parse = |setting: &str, value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| Endpoint::parse(setting, v))
                .transpose()
        };
        Ok(Notifier {
            ping: parse("NOTIFY_PING_URL", &args.notify_ping_url)?,
            webhook: parse("NOTIFY_WEBHOOK_URL", &args.notify_webhook_url)?,
            on: args.notify_on,
        })
    }

    /// A backup run is starting.
    pub fn started(&self, run_id: &RunId) {
        if let Some(ping) = &self.ping {
            let body = format!("dbbr run {run_id} started\n");
            send(
                "ping",
                &ping.with_path_suffix("/start"),
                "text/plain",
                &body,
                false,
            );
        }
    }

    /// A run ended with `summary`; `stopping`: the process was told to
    /// stop, so one quick try each. A verify run pings only on failure (its
    /// success must not stand in for a backup's).
    pub fn finished(&self, summary: &RunSummary, stopping: bool) {
        if let Some(ping) = &self.ping {
            let backup = summary.kind == "backup";
            if !summary.ok {
                let fail = ping.with_path_suffix("/fail");
                send("ping", &fail, "text/plain", &summary.to_text(), stopping);
            } else if backup {
                send("ping", ping, "text/plain", &summary.to_text(), stopping);
            }
        }
        if let Some(webhook) = &self.webhook {
            if self.on == NotifyOn::Always || !summary.ok {
                let body = summary.to_json();
                send("webhook", webhook, "application/json", &body, stopping);
            }
        }
    }
}

fn send(what: &str, endpoint: &Endpoint, content_type: &str, body: &str, quick: bool) {
    match endpoint.post(content_type, body, quick) {
        Ok(()) => tracing::debug!("{what} notification sent to {}", endpoint.shown),
        Err(e) => tracing::warn!(
            "{what} notification failed (the run's result stands): {}",
            dbbr::mask_secrets(&e)
        ),
    }
}
