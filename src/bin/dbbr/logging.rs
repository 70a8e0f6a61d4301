//! Log output: human lines on stderr, or JSON lines for clusters; each
//! line carries the id of the run it belongs to.
//!
//! Whatever `LOG_LEVEL` asks, the HTTP client and TLS crates are never
//! logged (at debug and trace they print whole requests: URL tokens and
//! `Authorization` headers, as text and as hex dumps), other libraries only
//! at warn and error; and every line is masked with the secrets dbbr knows
//! before it is written, a second line of defence behind the messages'
//! own care.

use std::io::IsTerminal;
use std::sync::RwLock;

use chrono::{SecondsFormat, Utc};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Targets (and their modules) never logged at any level: the HTTP client
/// of notifications and metrics pushes (`ureq`, `ureq_proto`), TLS, and the
/// HTTP crates a later dependency could bring.
const SILENCED: &[&str] = &[
    "ureq",
    "ureq_proto",
    "rustls",
    "rustls_pki_types",
    "webpki",
    "hyper",
    "hyper_util",
    "h2",
    "http",
    "reqwest",
];

/// Targets logged at every level `LOG_LEVEL` asks for: dbbr's own and the
/// embedded rclone's (whose lines are masked where they are forwarded).
const OWN: &[&str] = &["dbbr", "rclone"];

/// Whether `target` is `root` or one of its modules.
fn under(target: &str, root: &str) -> bool {
    target
        .strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Whether an event or span may be logged at all (before `LOG_LEVEL`'s
/// filter): never for [`SILENCED`] targets, at any level for [`OWN`] ones,
/// and at warn and error for other libraries.
fn allowed(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    if SILENCED.iter().any(|root| under(target, root)) {
        return false;
    }
    OWN.iter().any(|root| under(target, root)) || *meta.level() <= Level::WARN
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The levels a bare `LOG_LEVEL` item may name.
const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// Parses `LOG_LEVEL`: a level, or a filter such as `info,rclone=debug`. A
/// bare word that is not a level (tracing would take it as a target name
/// and quietly log nothing) is refused like any other invalid filter.
pub fn filter(level: &str) -> Result<EnvFilter, String> {
    let bad = |why: String| {
        format!(
            "LOG_LEVEL `{}` is not valid ({why}): use error, warn, info, debug or a filter such \
             as info,rclone=debug",
            level.escape_debug()
        )
    };
    for item in level.split(',').map(str::trim) {
        let bare = !item.contains('=') && !item.contains('[');
        if bare && !LEVELS.contains(&item.to_ascii_lowercase().as_str()) {
            return Err(bad(format!("`{}` is not a level", item.escape_debug())));
        }
    }
    EnvFilter::try_new(level).map_err(|e| bad(e.to_string()))
}

/// The id of the run going on, in every log line (runs never overlap, and
/// rclone logs from its own threads, so it is process-wide).
static RUN_ID: RwLock<String> = RwLock::new(String::new());

/// Sets the run id that every later log line carries.
pub fn set_run_id(id: &dbbr::RunId) {
    *RUN_ID.write().unwrap_or_else(|e| e.into_inner()) = id.to_string();
}

fn run_id() -> String {
    RUN_ID.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Installs the global subscriber with a filter from [`filter`], behind
/// [`allowed`].
pub fn init(format: LogFormat, filter: EnvFilter) {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let filter = filter.and(filter_fn(allowed));
    let registry = tracing_subscriber::registry();
    match format {
        LogFormat::Json => registry
            .with(layer.event_format(JsonLine).with_filter(filter))
            .init(),
        LogFormat::Text => registry
            .with(
                layer
                    .with_ansi(std::io::stderr().is_terminal())
                    .event_format(TextLine)
                    .with_filter(filter),
            )
            .init(),
    }
}

/// `2026-11-30T02:00:00.123456Z  INFO run=0123456789abcdef: message k=v`.
struct TextLine;

impl<S, N> FormatEvent<S, N> for TextLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let time = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let level = event.metadata().level();
        let mut fields = String::new();
        ctx.field_format()
            .format_fields(Writer::new(&mut fields), event)?;
        let fields = dbbr::redact(&fields);
        writeln!(writer, "{time} {level:>5} run={}: {fields}", run_id())
    }
}

/// One JSON object per line: `timestamp`, `level`, `run_id`, `target`,
/// `message` and the event's own fields.
struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields(serde_json::Map::new());
        fields.0.insert(
            "timestamp".into(),
            Utc::now()
                .to_rfc3339_opts(SecondsFormat::Micros, true)
                .into(),
        );
        fields
            .0
            .insert("level".into(), event.metadata().level().as_str().into());
        fields.0.insert("run_id".into(), run_id().into());
        fields
            .0
            .insert("target".into(), event.metadata().target().into());
        event.record(&mut fields);
        let line = serde_json::Value::Object(fields.0).to_string();
        writeln!(writer, "{line}")
    }
}

/// Collects an event's fields as JSON values.
struct Fields(serde_json::Map<String, serde_json::Value>);

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), dbbr::redact(value).into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().into(),
            dbbr::redact(&format!("{value:?}")).into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_and_filters() {
        for good in ["info", "DEBUG", "warn,rclone=debug", "dbbr=trace", "off"] {
            assert!(filter(good).is_ok(), "{good}");
        }
        for bad in ["verbose", "info,loud", "rclone=loud", ""] {
            let err = filter(bad).unwrap_err();
            assert!(err.starts_with("LOG_LEVEL"), "{bad}: {err}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any LOG_LEVEL is a filter or a one-line refusal naming it.
        #[test]
        fn any_log_level_parses_or_is_refused(
            level in "(info|debug|trace|off|rclone|dbbr|[=,\\[\\]{}/.*]|\\PC){0,16}",
        ) {
            if let Err(e) = filter(&level) {
                proptest::prop_assert!(e.starts_with("LOG_LEVEL") && !e.contains('\n'), "{}", e);
            }
        }
    }

    /// Metadata of a callsite with `target` and `level`.
    fn meta(target: &'static str, level: Level) -> Metadata<'static> {
        struct Callsite;
        impl tracing::callsite::Callsite for Callsite {
            fn set_interest(&self, _: tracing::subscriber::Interest) {}
            fn metadata(&self) -> &Metadata<'_> {
                unreachable!("not registered")
            }
        }
        static CALLSITE: Callsite = Callsite;
        Metadata::new(
            "event",
            target,
            level,
            None,
            None,
            None,
            tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::EVENT,
        )
    }

    #[test]
    fn http_and_tls_crates_are_never_logged() {
        for target in [
            "ureq",
            "ureq::unversioned::transport::tcp",
            "ureq_proto::client",
            "rustls::client::hs",
        ] {
            for level in [Level::ERROR, Level::WARN, Level::DEBUG, Level::TRACE] {
                assert!(!allowed(&meta(target, level)), "{target} {level}");
            }
        }
        for target in ["dbbr", "dbbr::backup_cmd", "rclone"] {
            assert!(allowed(&meta(target, Level::TRACE)), "{target}");
        }
        assert!(allowed(&meta("age::format", Level::WARN)));
        assert!(!allowed(&meta("age::format", Level::DEBUG)));
        assert!(!allowed(&meta("dbbrx", Level::DEBUG)));
        assert!(!allowed(&meta("ureqx", Level::DEBUG)));
    }
}
