//! The built-in schedule (`BACKUP_SCHEDULE`, `VERIFY_SCHEDULE`): cron
//! expressions in `TZ`, one run at a time. A run still going when another
//! is due makes that one skipped (and logged); a signal ends the loop.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// How often the loop wakes while waiting, to notice a signal.
const TICK: Duration = Duration::from_millis(100);

/// The time zone schedules are read in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// `TZ`, by name.
    Named(chrono_tz::Tz),
    /// The system's local time (`/etc/localtime`, or UTC).
    Local,
}

impl Zone {
    /// `TZ` if set (an IANA name such as `Europe/Paris`, optionally after
    /// `:`, or the path of a time zone file such as `:/etc/localtime`), else
    /// the system's local time. Anything else is refused, so that no
    /// calendar is silently read in UTC.
    pub fn from_env() -> Result<Zone, String> {
        match std::env::var_os("TZ") {
            Some(tz) => Zone::parse(tz.to_str().ok_or_else(|| {
                format!(
                    "TZ `{}` is not a time zone name: use one such as UTC or Europe/Paris",
                    tz.to_string_lossy().escape_debug()
                )
            })?),
            None => Ok(Zone::Local),
        }
    }

    /// [`Zone::from_env`] for the value `tz`.
    pub fn parse(tz: &str) -> Result<Zone, String> {
        let name = tz.trim().trim_start_matches(':');
        if name.is_empty() {
            return Ok(Zone::Local);
        }
        let bad = |why: &str| {
            let shown: String = tz.chars().take(60).collect();
            format!(
                "TZ `{}` {why}: use a time zone name such as UTC or Europe/Paris (schedules \
                 and retention's days are read in TZ)",
                shown.escape_debug()
            )
        };
        if name.starts_with('/') {
            // A zone file, as the C library reads it: it must be one.
            let mut magic = [0u8; 4];
            let ok = std::fs::File::open(name)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
                .is_ok();
            return match ok && &magic == b"TZif" {
                true => Ok(Zone::Local),
                false => Err(bad("is not a readable time zone file")),
            };
        }
        chrono_tz::Tz::from_str(name)
            .map(Zone::Named)
            .map_err(|_| bad("is not a time zone name"))
    }

    /// `time` as text in this zone.
    pub fn show(self, time: DateTime<Utc>) -> String {
        match self {
            Zone::Named(tz) => time.with_timezone(&tz).to_rfc3339(),
            Zone::Local => time.with_timezone(&Local).to_rfc3339(),
        }
    }
}

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    /// The expression as given.
    pub text: String,
}

impl Schedule {
    /// Parses `text` from the variable `setting`: five fields (minute hour
    /// day month weekday), six with seconds first, or `@daily`-style.
    pub fn parse(setting: &str, text: &str) -> Result<Schedule, String> {
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let shown = || {
            let shown: String = text.trim().chars().take(60).collect();
            shown.escape_debug().to_string()
        };
        let cron = parser.parse(text.trim()).map_err(|e| {
            format!(
                "{setting} `{}` is not a cron expression ({}): use 5 fields (minute hour day \
                 month weekday, e.g. `0 2 * * *`), 6 with seconds first, or @daily",
                shown(),
                e.to_string().escape_debug()
            )
        })?;
        Ok(Schedule {
            cron,
            text: text.trim().to_string(),
        })
    }

    /// Checks that the schedule fires at least once from now on in `zone`
    /// (`0 0 30 2 *` never does); the error names `setting`.
    pub fn check_fires(&self, setting: &str, zone: Zone) -> Result<(), String> {
        match self.next_after(zone, Utc::now()) {
            Some(_) => Ok(()),
            None => Err(format!(
                "{setting} `{}` never fires (no date matches it): check the day and month fields",
                self.text.escape_debug()
            )),
        }
    }

    /// The first time after `after` that matches, in `zone`.
    pub fn next_after(&self, zone: Zone, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match zone {
            Zone::Named(tz) => self
                .cron
                .find_next_occurrence(&after.with_timezone(&tz), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            Zone::Local => self
                .cron
                .find_next_occurrence(&after.with_timezone(&Local), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// A job of the loop: what it runs and when.
pub struct Job<K> {
    /// What to run.
    pub kind: K,
    /// When.
    pub schedule: Schedule,
}

/// What the loop needs from the world (a clock, a way to wait), so that
/// tests can drive it.
pub trait Clock {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
    /// Waits a little.
    fn sleep(&self, d: Duration);
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Runs `jobs` on their schedules until `stop` is set: `run` for each due
/// job, one at a time; `skipped` for each time a job came due while another
/// run was going.
pub fn run_loop<K: Copy>(
    jobs: &[Job<K>],
    zone: Zone,
    stop: &AtomicBool,
    clock: &dyn Clock,
    mut run: impl FnMut(K),
    mut skipped: impl FnMut(K, DateTime<Utc>),
) {
    let mut next: Vec<Option<DateTime<Utc>>> = jobs
        .iter()
        .map(|j| j.schedule.next_after(zone, clock.now()))
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let due = next
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (i, t)))
            .min_by_key(|(_, t)| *t);
        let Some((i, at)) = due else {
            tracing::warn!("no schedule has a next time: stopping");
            return;
        };
        let now = clock.now();
        if now < at {
            let left = (at - now).to_std().unwrap_or_default();
            clock.sleep(left.min(TICK));
            continue;
        }
        let started = now;
        run(jobs[i].kind);
        let now = clock.now();
        for (j, job) in jobs.iter().enumerate() {
            let mut t = if j == i {
                job.schedule.next_after(zone, at)
            } else {
                next[j]
            };
            // Due while the run was going: skipped. (A job due at the very
            // time the run started still runs after it.)
            while let Some(when) = t.filter(|w| *w <= now && (j == i || *w > started)) {
                skipped(job.kind, when);
                t = job.schedule.next_after(zone, when);
            }
            next[j] = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    struct FakeClock(Cell<DateTime<Utc>>);

    impl Clock for FakeClock {
        fn now(&self) -> DateTime<Utc> {
            self.0.get()
        }
        fn sleep(&self, d: Duration) {
            self.0
                .set(self.0.get() + chrono::Duration::from_std(d).unwrap());
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn expressions_and_zones() {
        let daily = Schedule::parse("BACKUP_SCHEDULE", "@daily").unwrap();
        let paris = Zone::Named(chrono_tz::Europe::Paris);
        assert_eq!(
            daily.next_after(paris, at("2026-07-01T12:00:00Z")),
            Some(at("2026-07-01T22:00:00Z"))
        );
        let utc = Zone::Named(chrono_tz::UTC);
        let two = Schedule::parse("BACKUP_SCHEDULE", "0 2 * * *").unwrap();
        assert_eq!(
            two.next_after(utc, at("2026-07-01T12:00:00Z")),
            Some(at("2026-07-02T02:00:00Z"))
        );
        let seconds = Schedule::parse("BACKUP_SCHEDULE", "*/5 * * * * *").unwrap();
        assert_eq!(
            seconds.next_after(utc, at("2026-07-01T12:00:01Z")),
            Some(at("2026-07-01T12:00:05Z"))
        );
        let err = Schedule::parse("BACKUP_SCHEDULE", "every day").unwrap_err();
        assert!(
            err.starts_with("BACKUP_SCHEDULE `every day` is not a cron"),
            "{err}"
        );
    }

    #[test]
    fn five_or_six_fields_and_a_schedule_that_never_fires() {
        for bad in [
            "0 0 1 1 * 2030",
            "0 0 0 1 1 * 2030",
            "* * * *",
            "",
            " ",
            "0 0 32 * *",
            "60 * * * *",
            "@never",
        ] {
            let err = Schedule::parse("BACKUP_SCHEDULE", bad).unwrap_err();
            assert!(err.starts_with("BACKUP_SCHEDULE `"), "{bad}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let utc = Zone::Named(chrono_tz::UTC);
        for never in ["0 0 30 2 *", "0 0 31 4 *", "0 0 0 31 11 *"] {
            let schedule = Schedule::parse("VERIFY_SCHEDULE", never).unwrap();
            let err = schedule.check_fires("VERIFY_SCHEDULE", utc).unwrap_err();
            assert!(err.contains("never fires"), "{err}");
        }
        let leap = Schedule::parse("BACKUP_SCHEDULE", "0 0 29 2 *").unwrap();
        assert!(leap.check_fires("BACKUP_SCHEDULE", utc).is_ok());
    }

    #[test]
    fn time_zones() {
        assert_eq!(
            Zone::parse("Europe/Paris"),
            Ok(Zone::Named(chrono_tz::Europe::Paris))
        );
        assert_eq!(Zone::parse(":UTC"), Ok(Zone::Named(chrono_tz::UTC)));
        assert_eq!(Zone::parse(""), Ok(Zone::Local));
        for bad in [
            "Mars/Olympus",
            "CET-1CEST",
            "/etc/passwd",
            ":/nonexistent",
            "../x",
        ] {
            let err = Zone::parse(bad).unwrap_err();
            assert!(err.starts_with("TZ `"), "{bad}: {err}");
        }
        if std::path::Path::new("/usr/share/zoneinfo/UTC").exists() {
            assert_eq!(Zone::parse(":/usr/share/zoneinfo/UTC"), Ok(Zone::Local));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Any text is a schedule or a one-line refusal; a schedule either
        /// fires or says it never does, in any zone.
        #[test]
        fn any_schedule_parses_or_is_refused(
            text in "[0-9*/,LW#?@a-zA-Z -]{0,30}",
            zone in proptest::sample::select(vec!["UTC", "Europe/Paris", "Pacific/Chatham", "America/St_Johns"]),
        ) {
            match Schedule::parse("BACKUP_SCHEDULE", &text) {
                Ok(s) => {
                    let zone = Zone::parse(zone).unwrap();
                    let _ = s.check_fires("BACKUP_SCHEDULE", zone);
                }
                Err(e) => proptest::prop_assert!(!e.contains('\n')),
            }
        }

        #[test]
        fn field_values_fire_or_say_they_never_do(
            minute in 0u32..60, hour in 0u32..24, day in 1u32..32, month in 1u32..13,
        ) {
            let text = format!("{minute} {hour} {day} {month} *");
            let s = Schedule::parse("BACKUP_SCHEDULE", &text).unwrap();
            let fires = s.check_fires("BACKUP_SCHEDULE", Zone::Named(chrono_tz::UTC)).is_ok();
            let exists = chrono::NaiveDate::from_ymd_opt(2028, month, day).is_some();
            proptest::prop_assert_eq!(fires, exists, "{}", text);
        }
    }

    #[test]
    fn a_run_that_overruns_makes_the_next_ones_skipped() {
        let clock = FakeClock(Cell::new(at("2026-07-01T12:00:00.500Z")));
        let jobs = [
            Job {
                kind: "backup",
                schedule: Schedule::parse("S", "* * * * * *").unwrap(),
            },
            Job {
                kind: "verify",
                schedule: Schedule::parse("S", "*/10 * * * * *").unwrap(),
            },
        ];
        let stop = AtomicBool::new(false);
        let ran = RefCell::new(Vec::new());
        let skipped = RefCell::new(Vec::new());
        run_loop(
            &jobs,
            Zone::Named(chrono_tz::UTC),
            &stop,
            &clock,
            |kind| {
                let now = clock.now();
                ran.borrow_mut().push((kind, now.format("%S").to_string()));
                // The first backup takes 3.2 s; the others 0.1 s.
                let took = if ran.borrow().len() == 1 { 3200 } else { 100 };
                clock.0.set(now + chrono::Duration::milliseconds(took));
                if ran.borrow().len() == 12 {
                    stop.store(true, Ordering::Relaxed);
                }
            },
            |kind, when| {
                skipped
                    .borrow_mut()
                    .push((kind, when.format("%S").to_string()))
            },
        );
        let ran = ran.into_inner();
        assert_eq!(ran[0], ("backup", "01".to_string()));
        // Due at 02, 03 and 04 while the first ran until 04.2: skipped.
        assert_eq!(
            skipped.into_inner(),
            [
                ("backup", "02".into()),
                ("backup", "03".into()),
                ("backup", "04".into())
            ]
        );
        assert_eq!(ran[1], ("backup", "05".to_string()));
        // Both due at 10: one after the other, none skipped.
        let at_ten: Vec<_> = ran.iter().filter(|(_, s)| s == "10").collect();
        assert_eq!(
            at_ten,
            [&("backup", "10".to_string()), &("verify", "10".to_string())]
        );
    }
}
