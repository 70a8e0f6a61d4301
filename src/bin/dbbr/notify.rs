//! Notifications after a run: healthchecks-style pings (`NOTIFY_PING_URL`:
//! `/start`, the URL itself on success, `/fail` with the summary) and a
//! JSON webhook (`NOTIFY_WEBHOOK_URL`, `NOTIFY_ON`). A failed notification
//! is logged and changes nothing else; each is bounded in time (see
//! [`crate::http`]).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use dbbr::RunId;

use crate::summary::RunSummary;

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
    #[arg(long, env = "NOTIFY_PING_URL", hide_env_values = true, value_parser = crate::settings::text())]
    pub notify_ping_url: Option<String>,
    /// URL that receives the run's JSON summary (POST).
    #[arg(long, env = "NOTIFY_WEBHOOK_URL", hide_env_values = true, value_parser = crate::settings::text())]
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

    /// A backup run is starting: the start ping goes out on a thread of its
    /// own, so that an endpoint that does not answer does not delay the
    /// backup. Wait for it (see [`StartPing::wait`]) before the run's end is
    /// sent.
    pub fn started(&self, run_id: &RunId) -> StartPing {
        let Some(ping) = &self.ping else {
            return StartPing(None);
        };
        let endpoint = ping.with_path_suffix("/start");
        let body = format!("dbbr run {run_id} started\n");
        let deadline = crate::http::deadline();
        let (sent, done) = mpsc::channel();
        std::thread::spawn(move || {
            send("ping", &endpoint, "text/plain", &body, deadline);
            let _ = sent.send(());
        });
        StartPing(Some((done, deadline)))
    }

    /// A run ended with `summary`: the ping and the webhook are sent at the
    /// same time, each done by `deadline`. A verify run pings only on
    /// failure (its success must not stand in for a backup's).
    pub fn finished(&self, summary: &RunSummary, deadline: Instant) {
        std::thread::scope(|s| {
            if let Some(ping) = &self.ping {
                let backup = summary.kind == "backup";
                if !summary.ok {
                    let fail = ping.with_path_suffix("/fail");
                    s.spawn(move || {
                        send("ping", &fail, "text/plain", &summary.to_text(), deadline)
                    });
                } else if backup {
                    s.spawn(move || send("ping", ping, "text/plain", &summary.to_text(), deadline));
                }
            }
            if let Some(webhook) = &self.webhook {
                if self.on == NotifyOn::Always || !summary.ok {
                    let body = summary.to_json();
                    send("webhook", webhook, "application/json", &body, deadline);
                }
            }
        });
    }
}

/// The start ping of a run, on its way.
pub struct StartPing(Option<(mpsc::Receiver<()>, Instant)>);

impl StartPing {
    /// Waits until the start ping was sent or failed, so that it reaches the
    /// endpoint before the run's end: at most until its own deadline, and
    /// at most [`STOPPING_WAIT`] once the process is stopping.
    pub fn wait(self) {
        let Some((done, deadline)) = self.0 else {
            return;
        };
        let mut stopping_since = None;
        loop {
            let now = Instant::now();
            if crate::http::stopping() {
                let since = *stopping_since.get_or_insert(now);
                if now >= since + STOPPING_WAIT {
                    return;
                }
            }
            if now >= deadline {
                return;
            }
            match done.recv_timeout(Duration::from_millis(100)) {
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                _ => return,
            }
        }
    }
}

/// How long the end of a stopping run waits for its start ping.
const STOPPING_WAIT: Duration = Duration::from_secs(1);

fn send(what: &str, endpoint: &Endpoint, content_type: &str, body: &str, deadline: Instant) {
    match endpoint.post(content_type, body, deadline) {
        Ok(()) => tracing::debug!("{what} notification sent to {}", endpoint.shown),
        Err(e) => tracing::warn!(
            "{what} notification failed (the run's result stands): {}",
            dbbr::redact(&e)
        ),
    }
}
