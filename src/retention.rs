//! Retention policy: which backups of one group (one engine and database)
//! to keep and which to remove, grandfather-father-son style.
//!
//! The rules combine the way restic's `forget` combines its `--keep-*`
//! options:
//!
//! - backups are taken newest first (equal times keep their input order: the
//!   one listed first counts as the newer);
//! - `keep_last` keeps the N newest backups;
//! - each calendar rule (`keep_hourly`, `keep_daily`, `keep_weekly`,
//!   `keep_monthly`, `keep_yearly`) walks the backups newest first and keeps
//!   the newest backup of each distinct bucket (hour, day, ISO week, month,
//!   year) until it has kept N buckets; if the backups run out before that,
//!   the oldest backup is kept as well (reason `oldest ...`), which keeps the
//!   longest history while the rule still has room;
//! - `keep_within` keeps every backup newer than the newest backup's time
//!   minus the duration;
//! - a backup is kept when any rule keeps it, and every rule that keeps it is
//!   listed; the newest backup is always kept.
//!
//! Calendar buckets are computed in the local time of the time zone passed
//! in, so with [`chrono::Local`] (or a `chrono-tz` zone) days follow the local
//! calendar across daylight-saving changes; weeks are ISO weeks.
//!
//! A caller checks the policy once ([`KeepPolicy::checked`]), then applies it to
//! each group: `policy.apply(&manifests, |m| m.started_at, &chrono::Local)`
//! returns one [`Decision`] per manifest, in the same order.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Timelike, Utc};

use crate::error::{Error, Result, Setting};

/// Which backups to keep. `None` (or zero) leaves a rule unused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepPolicy {
    /// Keep the N newest backups.
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N newest hours that have one.
    pub keep_hourly: Option<u32>,
    /// Keep the newest backup of each of the N newest days that have one.
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the N newest ISO weeks that have one.
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the N newest months that have one.
    pub keep_monthly: Option<u32>,
    /// Keep the newest backup of each of the N newest years that have one.
    pub keep_yearly: Option<u32>,
    /// Keep every backup newer than the newest backup's time minus this.
    pub keep_within: Option<Duration>,
}

/// What to do with one backup, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the backup is kept.
    pub keep: bool,
    /// Every rule that keeps it (`last 3`, `daily 2026-11-29`, `weekly
    /// 2026-W48`, `within 7d`, ...), or `not kept by any rule` for a removed backup.
    pub reasons: Vec<String>,
}

/// The reason given for a backup no rule keeps.
pub const NOT_KEPT: &str = "not kept by any rule";

/// The reason given for the newest backup when no rule kept it.
pub const NEWEST: &str = "newest";

/// The reason given for every backup when [`KeepPolicy::apply`] gets a policy
/// that keeps nothing (it keeps everything rather than remove everything).
pub const EMPTY_POLICY: &str = "policy is empty";

impl KeepPolicy {
    /// Whether no rule can keep anything (every count unset or zero,
    /// `keep_within` unset or not positive).
    pub fn is_empty(&self) -> bool {
        let counts = [
            self.keep_last,
            self.keep_hourly,
            self.keep_daily,
            self.keep_weekly,
            self.keep_monthly,
            self.keep_yearly,
        ];
        counts.iter().all(|n| n.unwrap_or(0) == 0)
            && self.keep_within.is_none_or(|d| d <= Duration::zero())
    }

    /// The policy, or a configuration error if it keeps nothing or has a
    /// `keep_within` that is negative or longer than 36600 days (about
    /// 100 years).
    pub fn checked(self) -> Result<Self> {
        if self.keep_within.is_some_and(|d| d < Duration::zero()) {
            return Err(Error::config(
                Setting::Retention,
                "keep-within is negative: give a positive duration such as 7d",
            ));
        }
        if let Some(d) = self.keep_within.filter(|d| *d > Duration::zero()) {
            crate::duration::check_range(d).map_err(|_| {
                Error::config(
                    Setting::Retention,
                    format!(
                        "keep-within is out of range: at most {}d (about 100 years)",
                        crate::duration::MAX_DAYS
                    ),
                )
            })?;
        }
        if self.is_empty() {
            return Err(Error::config(
                Setting::Retention,
                "the retention policy keeps nothing: set at least one keep option \
                 (last, hourly, daily, weekly, monthly, yearly or within)",
            ));
        }
        Ok(self)
    }

    /// Decides for each of `items` (backups of one group, in any order)
    /// whether to keep it. `time_of` gives a backup's time; calendar buckets
    /// are computed in `tz`'s local time. The result is in the order of
    /// `items`. An empty policy keeps everything (reason `policy is empty`):
    /// reject it first with [`KeepPolicy::checked`].
    pub fn apply<T, Tz: TimeZone>(
        &self,
        items: &[T],
        time_of: impl Fn(&T) -> DateTime<Utc>,
        tz: &Tz,
    ) -> Vec<Decision> {
        if self.is_empty() {
            let keep_all = || Decision {
                keep: true,
                reasons: vec![EMPTY_POLICY.to_string()],
            };
            return items.iter().map(|_| keep_all()).collect();
        }
        let times: Vec<DateTime<Utc>> = items.iter().map(time_of).collect();
        let mut order: Vec<usize> = (0..items.len()).collect();
        // Stable: equal times keep their input order.
        order.sort_by(|&a, &b| times[b].cmp(&times[a]));

        let mut decisions = vec![
            Decision {
                keep: false,
                reasons: Vec::new(),
            };
            items.len()
        ];
        let Some(&newest) = order.first() else {
            return decisions;
        };
        // Checked: a duration longer than the time since the earliest date
        // chrono represents keeps everything (no panic on a policy that was
        // not checked, or a manifest with an extreme time).
        let within_after = self.keep_within.filter(|d| *d > Duration::zero()).map(|d| {
            let after =
                crate::duration::before(times[newest], d).unwrap_or(DateTime::<Utc>::MIN_UTC);
            (after, format_duration(d))
        });
        let mut last = Counter::new(self.keep_last);
        let mut calendar = [
            (Counter::new(self.keep_hourly), Bucket::Hour),
            (Counter::new(self.keep_daily), Bucket::Day),
            (Counter::new(self.keep_weekly), Bucket::Week),
            (Counter::new(self.keep_monthly), Bucket::Month),
            (Counter::new(self.keep_yearly), Bucket::Year),
        ];

        for (rank, &index) in order.iter().enumerate() {
            let oldest = rank + 1 == order.len();
            let time = times[index];
            let local = local_time(time, tz);
            let reasons = &mut decisions[index].reasons;
            if let Some((after, label)) = &within_after {
                if time > *after {
                    reasons.push(format!("within {label}"));
                }
            }
            if let Some(n) = last.total {
                if last.take(rank as u64, false) {
                    reasons.push(format!("last {n}"));
                }
            }
            for (counter, bucket) in &mut calendar {
                if counter.total.is_none() {
                    continue;
                }
                let new_bucket = counter.last != Some(bucket.key(&local));
                if counter.take(bucket.key(&local), oldest) {
                    let prefix = if new_bucket { "" } else { "oldest " };
                    reasons.push(format!("{prefix}{}", bucket.label(&local)));
                }
            }
        }
        for decision in &mut decisions {
            decision.keep = !decision.reasons.is_empty();
        }
        let newest = &mut decisions[newest];
        if !newest.keep {
            newest.keep = true;
            newest.reasons.push(NEWEST.to_string());
        }
        for decision in &mut decisions {
            if !decision.keep {
                decision.reasons.push(NOT_KEPT.to_string());
            }
        }
        decisions
    }
}

/// How many buckets one rule may still keep, and the bucket it kept last.
struct Counter {
    total: Option<u32>,
    left: u32,
    last: Option<u64>,
}

impl Counter {
    fn new(total: Option<u32>) -> Self {
        let total = total.filter(|n| *n > 0);
        Counter {
            total,
            left: total.unwrap_or(0),
            last: None,
        }
    }

    /// Whether a backup in bucket `key` is kept: it opens a new bucket (or is
    /// the oldest backup) while the rule has buckets left.
    fn take(&mut self, key: u64, oldest: bool) -> bool {
        if self.left == 0 || (self.last == Some(key) && !oldest) {
            return false;
        }
        if self.last != Some(key) {
            self.left -= 1;
        }
        self.last = Some(key);
        true
    }
}

/// A calendar bucket kind.
#[derive(Clone, Copy)]
enum Bucket {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Bucket {
    /// A number naming the bucket a local time falls in.
    fn key(self, t: &NaiveDateTime) -> u64 {
        // Years before 1 do not occur in backup times; clamp rather than wrap.
        let year = t.year().max(0) as u64;
        let (month, day, hour) = (t.month() as u64, t.day() as u64, t.hour() as u64);
        match self {
            Bucket::Hour => ((year * 100 + month) * 100 + day) * 100 + hour,
            Bucket::Day => (year * 100 + month) * 100 + day,
            Bucket::Week => {
                let week = t.iso_week();
                week.year().max(0) as u64 * 100 + week.week() as u64
            }
            Bucket::Month => year * 100 + month,
            Bucket::Year => year,
        }
    }

    /// The reason shown for a backup kept for this bucket.
    fn label(self, t: &NaiveDateTime) -> String {
        let date = t.date();
        match self {
            Bucket::Hour => format!("hourly {} {:02}h", date.format("%Y-%m-%d"), t.hour()),
            Bucket::Day => format!("daily {}", date.format("%Y-%m-%d")),
            Bucket::Week => {
                let week = t.iso_week();
                format!("weekly {:04}-W{:02}", week.year(), week.week())
            }
            Bucket::Month => format!("monthly {}", date.format("%Y-%m")),
            Bucket::Year => format!("yearly {}", t.year()),
        }
    }
}

/// `time` on `tz`'s wall clock; the UTC time itself where the offset would
/// push it past the last (or first) date chrono represents, so that a
/// manifest's time at the very end of the range cannot panic.
fn local_time<Tz: TimeZone>(time: DateTime<Utc>, tz: &Tz) -> NaiveDateTime {
    let utc = time.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).unwrap_or(utc)
}

/// A positive duration in days, hours, minutes and seconds: `7d`, `1d12h`,
/// `90s` is `1m30s`.
fn format_duration(d: Duration) -> String {
    let mut secs = d.num_seconds();
    let mut text = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            text.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if text.is_empty() {
        text.push_str("0s");
    }
    text
}

#[cfg(test)]
mod tests;
