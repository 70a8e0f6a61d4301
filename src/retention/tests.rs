//! Tests of the parent module.

use chrono::{FixedOffset, NaiveDateTime};
use chrono_tz::Europe::Berlin;

use super::*;

/// A UTC time from `YYYY-MM-DD HH:MM`.
fn utc(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .unwrap()
        .and_utc()
}

/// A Berlin wall-clock time from `YYYY-MM-DD HH:MM`, as UTC.
fn berlin(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    Berlin
        .from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// The policy applied to `times` in `tz`, rendered as `(kept, reasons)`.
fn run<Tz: TimeZone>(policy: KeepPolicy, times: &[DateTime<Utc>], tz: &Tz) -> Vec<(bool, String)> {
    policy
        .apply(times, |t| *t, tz)
        .into_iter()
        .map(|d| (d.keep, d.reasons.join(", ")))
        .collect()
}

fn keep(reasons: &str) -> (bool, String) {
    (true, reasons.to_string())
}

fn remove() -> (bool, String) {
    (false, NOT_KEPT.to_string())
}

struct Case {
    name: &'static str,
    policy: KeepPolicy,
    /// Backup times, in any order.
    times: Vec<DateTime<Utc>>,
    /// For each time, in the same order.
    expected: Vec<(bool, String)>,
}

fn cases() -> Vec<Case> {
    let days = |n: u32| Duration::days(n.into());
    vec![
        Case {
            name: "keep-last only, input in any order",
            policy: KeepPolicy {
                keep_last: Some(3),
                ..KeepPolicy::default()
            },
            times: [
                "2026-11-27 10:00",
                "2026-11-29 10:00",
                "2026-11-25 10:00",
                "2026-11-28 10:00",
                "2026-11-26 10:00",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                keep("last 3"),
                keep("last 3"),
                remove(),
                keep("last 3"),
                remove(),
            ],
        },
        Case {
            name: "monthly across month ends",
            policy: KeepPolicy {
                keep_monthly: Some(3),
                ..KeepPolicy::default()
            },
            times: [
                "2026-01-30 12:00",
                "2026-01-31 23:00",
                "2026-02-01 00:30",
                "2026-02-28 12:00",
                "2026-03-01 00:00",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                remove(),
                keep("monthly 2026-01"),
                remove(),
                keep("monthly 2026-02"),
                keep("monthly 2026-03"),
            ],
        },
        Case {
            name: "weekly across the year boundary: 2026 has an ISO week 53",
            policy: KeepPolicy {
                keep_weekly: Some(3),
                ..KeepPolicy::default()
            },
            times: [
                "2026-12-27 12:00",
                "2026-12-28 12:00",
                "2026-12-31 12:00",
                "2027-01-03 12:00",
                "2027-01-04 12:00",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                keep("weekly 2026-W52"),
                remove(),
                remove(),
                keep("weekly 2026-W53"),
                keep("weekly 2027-W01"),
            ],
        },
        Case {
            name: "yearly and hourly",
            policy: KeepPolicy {
                keep_hourly: Some(2),
                keep_yearly: Some(2),
                ..KeepPolicy::default()
            },
            times: [
                "2025-12-31 23:59",
                "2026-06-01 10:00",
                "2026-11-29 13:10",
                "2026-11-29 14:05",
                "2026-11-29 14:45",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                keep("yearly 2025"),
                remove(),
                keep("hourly 2026-11-29 13h"),
                remove(),
                keep("hourly 2026-11-29 14h, yearly 2026"),
            ],
        },
        Case {
            name: "keep-within counts back from the newest backup, not from now",
            policy: KeepPolicy {
                keep_within: Some(days(7)),
                ..KeepPolicy::default()
            },
            times: [
                "2020-01-01 12:00",
                "2020-01-08 11:59",
                "2020-01-08 12:00",
                "2020-01-08 12:01",
                "2020-01-15 12:00",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                remove(),
                remove(),
                remove(),
                keep("within 7d"),
                keep("within 7d"),
            ],
        },
        Case {
            name: "several rules keep the same backup and all are listed",
            policy: KeepPolicy {
                keep_last: Some(2),
                keep_daily: Some(2),
                keep_weekly: Some(2),
                keep_within: Some(Duration::hours(36)),
                ..KeepPolicy::default()
            },
            // Sunday 2026-11-29 (W48) twice, Saturday, Sunday a week before (W47), and older.
            times: [
                "2026-11-29 18:00",
                "2026-11-29 08:00",
                "2026-11-28 18:00",
                "2026-11-22 18:00",
                "2026-11-15 18:00",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                keep("within 1d12h, last 2, daily 2026-11-29, weekly 2026-W48"),
                keep("within 1d12h, last 2"),
                keep("within 1d12h, daily 2026-11-28"),
                keep("weekly 2026-W47"),
                remove(),
            ],
        },
        Case {
            name: "equal times: the one listed first counts as the newer",
            policy: KeepPolicy {
                keep_last: Some(1),
                keep_daily: Some(1),
                ..KeepPolicy::default()
            },
            times: ["2026-11-29 10:00", "2026-11-29 10:00", "2026-11-28 10:00"]
                .map(utc)
                .to_vec(),
            expected: vec![keep("last 1, daily 2026-11-29"), remove(), remove()],
        },
        Case {
            name: "a calendar rule with buckets left keeps the oldest backup too",
            policy: KeepPolicy {
                keep_daily: Some(5),
                ..KeepPolicy::default()
            },
            times: [
                "2026-11-28 08:00",
                "2026-11-28 20:00",
                "2026-11-29 08:00",
                "2026-11-29 20:00",
            ]
            .map(utc)
            .to_vec(),
            expected: vec![
                keep("oldest daily 2026-11-28"),
                keep("daily 2026-11-28"),
                remove(),
                keep("daily 2026-11-29"),
            ],
        },
        Case {
            name: "one backup",
            policy: KeepPolicy {
                keep_monthly: Some(1),
                ..KeepPolicy::default()
            },
            times: vec![utc("2026-11-29 10:00")],
            expected: vec![keep("monthly 2026-11")],
        },
        Case {
            name: "no backups",
            policy: KeepPolicy {
                keep_last: Some(1),
                ..KeepPolicy::default()
            },
            times: vec![],
            expected: vec![],
        },
    ]
}

#[test]
fn table() {
    for case in cases() {
        assert_eq!(
            run(case.policy, &case.times, &Utc),
            case.expected,
            "{}",
            case.name
        );
    }
}

#[test]
fn daily_keeps_the_newest_backup_of_each_day() {
    // 10 days, three backups a day, listed oldest first.
    let mut times = Vec::new();
    for day in 20..30 {
        for hour in ["00:10", "08:00", "20:00"] {
            times.push(utc(&format!("2026-11-{day} {hour}")));
        }
    }
    let daily = |n| KeepPolicy {
        keep_daily: Some(n),
        ..KeepPolicy::default()
    };
    for (n, kept_days) in [(3, 27..30), (10, 20..30)] {
        let result = run(daily(n), &times, &Utc);
        for (time, (kept, reasons)) in times.iter().zip(&result) {
            let day = time.day();
            let expected = kept_days.contains(&day) && time.hour() == 20;
            assert_eq!(*kept, expected, "keep-daily {n}: {time}");
            if expected {
                assert_eq!(reasons, &format!("daily 2026-11-{day}"));
            }
        }
    }
    // More days asked for than there are: the oldest backup is kept too.
    let result = run(daily(11), &times, &Utc);
    assert_eq!(result.iter().filter(|(kept, _)| *kept).count(), 11);
    assert_eq!(result[0], keep("oldest daily 2026-11-20"));
}

#[test]
fn buckets_follow_the_time_zone_given() {
    // 23:30 UTC on 31 January is 1 February at UTC+02:00.
    let times = ["2026-01-31 12:00", "2026-01-31 23:30", "2026-02-01 12:00"].map(utc);
    let monthly = KeepPolicy {
        keep_monthly: Some(2),
        ..KeepPolicy::default()
    };
    assert_eq!(
        run(monthly, &times, &Utc),
        [remove(), keep("monthly 2026-01"), keep("monthly 2026-02")]
    );
    let east = FixedOffset::east_opt(2 * 3600).unwrap();
    assert_eq!(
        run(monthly, &times, &east),
        [keep("monthly 2026-01"), remove(), keep("monthly 2026-02")]
    );
}

#[test]
fn days_follow_the_local_calendar_across_daylight_saving_changes() {
    // Berlin springs forward on 2026-03-29 (23 hours) and falls back on
    // 2026-10-25 (25 hours). 00:30 and 23:30 local on the change days
    // are the same local day, though UTC puts them on different dates.
    let daily = KeepPolicy {
        keep_daily: Some(10),
        ..KeepPolicy::default()
    };
    for change in ["2026-03-29", "2026-10-25"] {
        let date = chrono::NaiveDate::parse_from_str(change, "%Y-%m-%d").unwrap();
        let before = date.pred_opt().unwrap();
        let after = date.succ_opt().unwrap();
        let times = [
            berlin(&format!("{before} 23:30")),
            berlin(&format!("{change} 00:30")),
            berlin(&format!("{change} 23:30")),
            berlin(&format!("{after} 00:30")),
        ];
        assert_eq!(
            run(daily, &times, &Berlin),
            [
                keep(&format!("daily {before}")),
                remove(),
                keep(&format!("daily {change}")),
                keep(&format!("daily {after}")),
            ],
            "{change} in Berlin"
        );
        // In UTC the local 00:30 of the change day is still the day before.
        assert_ne!(run(daily, &times, &Utc), run(daily, &times, &Berlin));
    }
    // The repeated hour 02:00-03:00 of the fall-back day is one local hour.
    // 01:30 CEST, 02:30 CEST, 02:30 CET:
    let times = ["2026-10-24 23:30", "2026-10-25 00:30", "2026-10-25 01:30"].map(utc);
    let hourly = KeepPolicy {
        keep_hourly: Some(5),
        ..KeepPolicy::default()
    };
    assert_eq!(
        run(hourly, &times, &Berlin),
        [
            keep("hourly 2026-10-25 01h"),
            remove(),
            keep("hourly 2026-10-25 02h")
        ]
    );
}

#[test]
fn a_policy_keeping_nothing_is_rejected() {
    let zeros = KeepPolicy {
        keep_last: Some(0),
        keep_daily: Some(0),
        keep_within: Some(Duration::zero()),
        ..KeepPolicy::default()
    };
    for policy in [KeepPolicy::default(), zeros] {
        assert!(policy.is_empty());
        let message = policy.checked().unwrap_err().to_string();
        assert!(
            message.contains("set at least one keep option"),
            "{message}"
        );
        assert!(!message.contains('\n'));
        assert!(policy.checked().unwrap_err().is_usage());
    }
    let negative = KeepPolicy {
        keep_last: Some(1),
        keep_within: Some(Duration::days(-1)),
        ..KeepPolicy::default()
    };
    assert!(negative
        .checked()
        .unwrap_err()
        .to_string()
        .contains("negative"));
    let fine = KeepPolicy {
        keep_yearly: Some(1),
        ..KeepPolicy::default()
    };
    assert_eq!(fine.checked().unwrap(), fine);
    // Applied anyway, an empty policy removes nothing.
    let times = ["2026-01-01 00:00", "2026-01-02 00:00"].map(utc);
    assert_eq!(
        run(KeepPolicy::default(), &times, &Utc),
        [keep(EMPTY_POLICY), keep(EMPTY_POLICY)]
    );
}

#[test]
fn the_newest_backup_is_always_kept_and_counts_hold() {
    // Pseudo-random groups and policies (a fixed linear congruential
    // sequence, so failures reproduce).
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound
    };
    let start = utc("2025-01-01 00:00");
    for _ in 0..500 {
        let count = 1 + next(40) as usize;
        let times: Vec<_> = (0..count)
            .map(|_| start + Duration::minutes(next(60 * 24 * 800) as i64))
            .collect();
        let mut pick = || Some(next(6) as u32).filter(|n| *n > 0);
        let mut policy = KeepPolicy {
            keep_last: pick(),
            keep_hourly: pick(),
            keep_daily: pick(),
            keep_weekly: pick(),
            keep_monthly: pick(),
            keep_yearly: pick(),
            keep_within: None,
        };
        if policy.is_empty() {
            policy.keep_within = Some(Duration::hours(1 + next(100) as i64));
        }
        let decisions = policy.apply(&times, |t| *t, &Berlin);
        let newest = (0..count)
            .max_by_key(|&i| (times[i], std::cmp::Reverse(i)))
            .unwrap();
        assert!(decisions[newest].keep, "{policy:?} {times:?}");
        assert!(!decisions[newest].reasons.iter().any(|r| r == NEWEST));
        if let Some(n) = policy.keep_last {
            let by_last = decisions
                .iter()
                .filter(|d| d.reasons.contains(&format!("last {n}")))
                .count();
            assert_eq!(by_last, count.min(n as usize));
        }
        if let Some(n) = policy.keep_daily {
            // At most one backup per day, plus possibly the oldest; at most n days.
            let mut days: Vec<_> = decisions
                .iter()
                .zip(&times)
                .filter(|(d, _)| d.reasons.iter().any(|r| r.starts_with("daily")))
                .map(|(_, t)| t.with_timezone(&Berlin).date_naive())
                .collect();
            let kept = days.len();
            days.sort();
            days.dedup();
            assert_eq!(days.len(), kept, "two backups kept for one day");
            assert!(kept <= n as usize);
        }
        for decision in &decisions {
            assert_eq!(decision.keep, decision.reasons != [NOT_KEPT]);
        }
    }
}

#[test]
fn durations_are_short() {
    assert_eq!(format_duration(Duration::days(7)), "7d");
    assert_eq!(format_duration(Duration::hours(36)), "1d12h");
    assert_eq!(format_duration(Duration::seconds(90)), "1m30s");
    assert_eq!(format_duration(Duration::milliseconds(10)), "0s");
}

#[test]
fn keep_within_out_of_range_is_refused_and_never_panics() {
    let within = |d: Duration| KeepPolicy {
        keep_within: Some(d),
        ..KeepPolicy::default()
    };
    for d in [Duration::MAX, Duration::days(crate::duration::MAX_DAYS + 1)] {
        let err = within(d).checked().unwrap_err().to_string();
        assert!(err.contains("out of range"), "{err}");
    }
    assert!(within(Duration::days(crate::duration::MAX_DAYS))
        .checked()
        .is_ok());
    // Applied without checking, to extreme times: everything is within.
    let times = [
        DateTime::<Utc>::MIN_UTC + Duration::days(1),
        utc("2026-01-01 00:00"),
        DateTime::<Utc>::MAX_UTC,
    ];
    let decisions = within(Duration::MAX).apply(&times, |t| *t, &Utc);
    assert!(decisions.iter().all(|d| d.keep), "{decisions:?}");
    let decisions = within(Duration::days(crate::duration::MAX_DAYS)).apply(&times, |t| *t, &Utc);
    let kept: Vec<bool> = decisions.iter().map(|d| d.keep).collect();
    assert_eq!(kept, [false, false, true], "{decisions:?}");
    let calendar = KeepPolicy {
        keep_daily: Some(3),
        keep_weekly: Some(u32::MAX),
        keep_yearly: Some(2),
        ..KeepPolicy::default()
    };
    let decisions = calendar.apply(&times, |t| *t, &Berlin);
    assert!(decisions.iter().all(|d| d.keep), "{decisions:?}");
}
