//! Small HTTP POSTs (pings, webhooks, Pushgateway pushes), each bounded in
//! total, retries included, so that an endpoint that does not answer
//! cannot hold a run or a shutdown. URLs are secrets (tokens in paths,
//! passwords in user info): they are registered with the redaction when
//! parsed and only their scheme and host are ever shown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::http::Uri;

/// How long one notification may take in all: its tries and the pauses
/// between them.
const BUDGET: Duration = Duration::from_secs(10);
/// How long one try may take at most (within the budget).
const TRY_TIMEOUT: Duration = Duration::from_secs(6);
/// How long one notification may take once the process is stopping: one
/// try.
pub const QUICK_BUDGET: Duration = Duration::from_secs(3);
/// Tries per notification, with 1 s, then 2 s between them, while its
/// budget lasts.
const ATTEMPTS: u32 = 3;

static STOPPING: AtomicBool = AtomicBool::new(false);

/// The process is stopping (a signal came): from now on, notifications get
/// one try each, within [`QUICK_BUDGET`].
pub fn stop() {
    STOPPING.store(true, Ordering::SeqCst);
}

/// Whether [`stop`] was called.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// When a notification starting now must be done: [`BUDGET`] from now, or
/// [`QUICK_BUDGET`] if the process is stopping.
pub fn deadline() -> Instant {
    Instant::now() + if stopping() { QUICK_BUDGET } else { BUDGET }
}

/// An http(s) URL, parsed and validated before any I/O.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL without user info.
    url: String,
    /// `Basic ...` from the URL's user info, if any.
    authorization: Option<String>,
    /// `scheme://host[:port]`, to name it in log lines.
    pub shown: String,
}

impl Endpoint {
    /// Parses `text` (from the variable `setting`); registers its secret
    /// parts for redaction. The error names the setting, never the value.
    pub fn parse(setting: &str, text: &str) -> Result<Endpoint, String> {
        let text = text.trim();
        dbbr::add_secret(text);
        let bad = |why: &str| format!("{setting} is not a valid http(s) URL: {why}");
        let uri: Uri = text.parse().map_err(|_| bad("it does not parse"))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if scheme != "http" && scheme != "https" {
            return Err(bad("it must start with http:// or https://"));
        }
        let authority = uri.authority().ok_or_else(|| bad("it has no host"))?;
        let (userinfo, host) = match authority.as_str().rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority.as_str()),
        };
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        let authorization = userinfo.map(|info| {
            if let Some((_, password)) = info.split_once(':') {
                dbbr::add_secret(password);
            }
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(decode_percent(info))
            )
        });
        if let Some(auth) = &authorization {
            dbbr::add_secret(auth);
        }
        let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
        // A path long enough to hold a token (healthchecks' UUIDs, chat
        // webhooks' keys) is masked; `/` or `/api` would mask too much.
        if path_and_query.len() >= 8 {
            dbbr::add_secret(path_and_query);
        }
        Ok(Endpoint {
            url: format!("{scheme}://{host}{path_and_query}"),
            authorization,
            shown: format!("{scheme}://{host}"),
        })
    }

    /// This URL with `suffix` appended to its path (before any query).
    pub fn with_path_suffix(&self, suffix: &str) -> Endpoint {
        let (base, query) = match self.url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.url.as_str(), None),
        };
        let mut url = format!("{}{suffix}", base.trim_end_matches('/'));
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        Endpoint {
            url,
            ..self.clone()
        }
    }

    /// POSTs `body`, done by `deadline` whatever happens; retried on a
    /// network error or a 5xx reply while time is left, unless the process
    /// is stopping (one try then).
    pub fn post(&self, content_type: &str, body: &str, deadline: Instant) -> Result<(), String> {
        let mut last = String::from("no time left");
        let mut tries = 0;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                if stopping() {
                    break;
                }
                let pause = Duration::from_secs(u64::from(attempt - 1));
                if deadline.saturating_duration_since(Instant::now()) <= pause {
                    break;
                }
                std::thread::sleep(pause);
            }
            let mut timeout = deadline
                .saturating_duration_since(Instant::now())
                .min(TRY_TIMEOUT);
            if stopping() {
                timeout = timeout.min(QUICK_BUDGET);
            }
            if timeout.is_zero() {
                break;
            }
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(true)
                .build()
                .into();
            let mut request = agent.post(&self.url).header("Content-Type", content_type);
            if let Some(auth) = &self.authorization {
                request = request.header("Authorization", auth);
            }
            tries += 1;
            match request.send(body) {
                Ok(_) => return Ok(()),
                Err(ureq::Error::StatusCode(code)) if (400..500).contains(&code) => {
                    return Err(format!("{} answered HTTP {code}", self.shown));
                }
                Err(e) => last = dbbr::redact(&e.to_string()),
            }
        }
        let tries = match tries {
            1 => "1 try".to_string(),
            n => format!("{n} tries"),
        };
        Err(format!("{}: {last} (after {tries})", self.shown))
    }
}

/// `user%40x:p%3A` -> `user@x:p:` (user info is percent-encoded in URLs).
fn decode_percent(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_shown_without_secrets() {
        let e = Endpoint::parse(
            "NOTIFY_PING_URL",
            "https://u:pw%40x@hc.example/ping/abc?x=1",
        )
        .unwrap();
        assert_eq!(e.shown, "https://hc.example");
        assert_eq!(e.url, "https://hc.example/ping/abc?x=1");
        let expected = base64::engine::general_purpose::STANDARD.encode("u:pw@x");
        assert_eq!(
            e.authorization.as_deref(),
            Some(&*format!("Basic {expected}"))
        );
        assert_eq!(
            e.with_path_suffix("/start").url,
            "https://hc.example/ping/abc/start?x=1"
        );
        assert_eq!(dbbr::redact("token /ping/abc?x=1"), "token ***");
        for bad in ["ftp://x/y", "not a url", "http://", "/just/a/path"] {
            let err = Endpoint::parse("NOTIFY_WEBHOOK_URL", bad).unwrap_err();
            assert!(
                err.starts_with("NOTIFY_WEBHOOK_URL is not a valid"),
                "{bad}: {err}"
            );
            assert!(!err.contains(bad), "{err}");
        }
    }
}
