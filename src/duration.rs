//! Durations as settings give them (`7d`, `12h`, `2w`, `1d12h`, `90m`,
//! `30s`), and time arithmetic with them that cannot overflow.
//!
//! A duration is one or more whole numbers, each followed by a unit: `w`
//! (weeks), `d` (days), `h` (hours), `m` (minutes) or `s` (seconds). It is
//! at least one second and at most [`MAX_DAYS`] days (about 100 years):
//! anything longer is refused rather than wrapped or clamped, so that no
//! later addition or subtraction of the duration to a time can overflow.

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result, Setting};

/// The longest duration accepted, in days (about 100 years).
pub const MAX_DAYS: i64 = 36_600;

/// The longest duration accepted, in seconds.
const MAX_SECONDS: i64 = MAX_DAYS * 86_400;

/// At most this many characters of a rejected value are shown.
#[cfg(any(feature = "cli", test))]
const SHOWN: usize = 40;

/// Parses a duration such as `7d`, `12h`, `2w`, `1d12h` or `90m` (see the
/// module documentation for the syntax and range).
///
/// ```
/// use chrono::Duration;
/// use dbbr::cli::parse_duration;
/// assert_eq!(parse_duration("1d12h")?, Duration::hours(36));
/// assert!(parse_duration("0d").is_err());
/// assert!(parse_duration("99999999w").is_err());
/// # Ok::<(), dbbr::Error>(())
/// ```
#[cfg(any(feature = "cli", test))]
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || {
        Error::config(
            Setting::Retention,
            format!(
                "`{}` is not a duration: use whole numbers with units w, d, h, m or s, \
                 e.g. 7d, 12h, 2w or 1d12h",
                shown(text)
            ),
        )
    };
    let too_long = || {
        Error::config(
            Setting::Retention,
            format!(
                "`{}` is out of range: a duration is at most {MAX_DAYS}d (about 100 years)",
                shown(text)
            ),
        )
    };
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    for c in text.trim().chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(digit)))
                    .filter(|n| *n <= MAX_SECONDS)
                    .ok_or_else(too_long)?,
            );
            continue;
        }
        let unit: i64 = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|seconds| total.checked_add(seconds))
            .filter(|t| *t <= MAX_SECONDS)
            .ok_or_else(too_long)?;
    }
    if number.is_some() || total <= 0 {
        return Err(bad());
    }
    Ok(Duration::seconds(total))
}

/// `time` minus `age`, or a configuration error naming the range when the
/// result would fall outside the times chrono represents (a duration out of
/// [`parse_duration`]'s range, or a negative one, given by a library user).
pub fn before(time: DateTime<Utc>, age: Duration) -> Result<DateTime<Utc>> {
    check_range(age)?;
    time.checked_sub_signed(age).ok_or_else(|| {
        Error::config(
            Setting::Retention,
            format!("{time} minus the duration is out of the range of dates"),
        )
    })
}

/// Whether `d` is within [`parse_duration`]'s range (positive, at most
/// [`MAX_DAYS`] days); the error says which bound it breaks.
pub fn check_range(d: Duration) -> Result<()> {
    if d <= Duration::zero() {
        return Err(Error::config(
            Setting::Retention,
            "the duration is not positive: give one such as 7d",
        ));
    }
    if d > Duration::seconds(MAX_SECONDS) {
        return Err(Error::config(
            Setting::Retention,
            format!("the duration is out of range: at most {MAX_DAYS}d (about 100 years)"),
        ));
    }
    Ok(())
}

/// `text` as an error message shows it: on one line, at most [`SHOWN`]
/// characters.
#[cfg(any(feature = "cli", test))]
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(SHOWN).collect::<String>();
    if text.chars().count() > SHOWN {
        out.push_str("...");
    }
    out.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::days(7));
        assert_eq!(
            parse_duration("1d12h").unwrap(),
            Duration::days(1) + Duration::hours(12)
        );
        assert_eq!(parse_duration("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_duration(" 90m ").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration("1s").unwrap(), Duration::seconds(1));
        for bad in [
            "", " ", "7", "d", "7x", "-1d", "0d", "0s0m", "1d 2h", "1.5d", "7D", "٣d", "7d\0",
            "1dd",
        ] {
            let err = parse_duration(bad).unwrap_err().to_string();
            assert!(err.contains("not a duration"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_range_is_a_hundred_years() {
        assert_eq!(parse_duration("36600d").unwrap(), Duration::days(MAX_DAYS));
        for long in [
            "36601d",
            "5229w",
            "99999999999999999999999d",
            "9223372036854775807s",
            "36600d1s",
            "1000000000w",
        ] {
            let err = parse_duration(long).unwrap_err().to_string();
            assert!(
                err.contains("out of range") && err.contains("36600d"),
                "{long}: {err}"
            );
        }
    }

    #[test]
    fn rejected_values_are_shown_on_one_line_and_short() {
        let err = parse_duration(&format!("x\n{}", "y".repeat(500)))
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n') && err.len() < 200, "{err}");
    }

    #[test]
    fn subtraction_is_checked() {
        let now = Utc::now();
        assert_eq!(
            before(now, Duration::days(2)).unwrap(),
            now - Duration::days(2)
        );
        assert!(before(now, Duration::MAX).is_err());
        assert!(before(now, Duration::zero()).is_err());
        assert!(before(now, Duration::days(-1)).is_err());
        let earliest = DateTime::<Utc>::MIN_UTC;
        assert!(before(earliest, Duration::days(1)).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_parses_or_is_refused(text in "\\PC{0,24}") {
            if let Ok(d) = parse_duration(&text) {
                prop_assert!(check_range(d).is_ok());
                prop_assert!(before(Utc::now(), d).is_ok());
            }
        }

        #[test]
        fn well_formed_durations_add_up(parts in proptest::collection::vec(
            (0u64..100_000_000_000, prop::sample::select(vec!['w', 'd', 'h', 'm', 's'])),
            1..5,
        )) {
            let text: String = parts.iter().map(|(n, u)| format!("{n}{u}")).collect();
            let seconds: u128 = parts
                .iter()
                .map(|(n, u)| {
                    let unit: u128 = match u { 'w' => 604_800, 'd' => 86_400, 'h' => 3_600, 'm' => 60, _ => 1 };
                    u128::from(*n) * unit
                })
                .sum();
            match parse_duration(&text) {
                Ok(d) => prop_assert_eq!(d.num_seconds() as u128, seconds),
                Err(e) => prop_assert!(seconds == 0 || seconds > MAX_SECONDS as u128, "{}: {}", text, e),
            }
        }
    }
}
