//! The fault matrix: every lifecycle command (backup, restore, verify,
//! list, prune with and without orphans, check), on PostgreSQL and
//! MariaDB, against a local directory and S3 behind the fault proxy, each
//! case with one fault drawn from a seeded schedule (signals to dbbr or its
//! child at a random moment, a frozen, failing or cut request of one kind,
//! an unreadable manifest, a damaged object, foreign and look-alike files,
//! both engines' backups under the same names), and after each case the
//! invariants of `invariants.rs`.
//!
//! `fault_matrix` runs a fixed number of cases of a fixed seed (a few
//! minutes). Settings: `DBBR_CHAOS_SEED`, `DBBR_CHAOS_CASES`,
//! `DBBR_CHAOS_MINUTES` (run cases until then), `DBBR_CHAOS_CASE` (only
//! that case: a replay), `DBBR_CHAOS_REPORT` (a file for the summary),
//! `DBBR_CHAOS_VERBOSE` (print every case's command, fault and output),
//! `DBBR_CHAOS_LIST` (print the cases without running them),
//! `DBBR_CHAOS_EXPECT_MS` (with `DBBR_CHAOS_CASE`: how long the command
//! takes without its fault, as a failure printed it, instead of measuring
//! it again, so that a signal falls at the same moment).
//! `scripts/chaos --minutes N --seed S [--case K]` sets them.

mod case;
mod dbs;
mod invariants;
mod per_command;
mod plan;
mod prefix;
mod report;
mod rng;
mod runner;
mod world;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use plan::{Case, Cmd, Engine, Storage};
use report::Tally;
use world::World;

/// The seed of the test command's run.
const SEED: u64 = 90;
/// How many cases the test command runs.
const CASES: u64 = 40;

/// The run's settings, from the environment.
struct Settings {
    seed: u64,
    cases: Option<u64>,
    minutes: Option<f64>,
    only: Option<u64>,
    /// The command's expected duration, instead of measuring it.
    expect_ms: Option<u64>,
}

impl Settings {
    fn from_env() -> Settings {
        let get = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| v.trim().to_string())
        };
        let number = |name: &str| {
            get(name).map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name}={v} is not a whole number"))
            })
        };
        let minutes = get("DBBR_CHAOS_MINUTES").map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|m| *m > 0.0)
                .unwrap_or_else(|| panic!("DBBR_CHAOS_MINUTES={v} is not a number of minutes"))
        });
        let cases = number("DBBR_CHAOS_CASES");
        Settings {
            seed: number("DBBR_CHAOS_SEED").unwrap_or(SEED),
            // Minutes alone: as many cases as fit.
            cases: cases.or(if minutes.is_some() { None } else { Some(CASES) }),
            minutes,
            only: number("DBBR_CHAOS_CASE"),
            expect_ms: number("DBBR_CHAOS_EXPECT_MS"),
        }
    }
}

#[test]
fn fault_matrix() {
    let settings = Settings::from_env();
    if std::env::var_os("DBBR_CHAOS_LIST").is_some() {
        // Only what the cases are, without running them.
        let count = settings.cases.unwrap_or(CASES);
        for number in settings.only.map_or(0..count, |n| n..n + 1) {
            let case = Case::draw(settings.seed, number);
            println!("{}; fault: {}", case.title(), case.fault);
        }
        return;
    }
    let start = Instant::now();
    let world = World::build();
    println!(
        "fault matrix: seed {}, set up in {:.1}s",
        settings.seed,
        start.elapsed().as_secs_f64()
    );
    let mut tally = Tally::default();
    // How long each command takes without a fault, measured once per
    // command, engine and storage by running the case without its fault.
    let mut expected: BTreeMap<(Cmd, Engine, Storage), Duration> = BTreeMap::new();
    let numbers: Box<dyn Iterator<Item = u64>> = match settings.only {
        Some(n) => Box::new(std::iter::once(n)),
        None => Box::new(0..settings.cases.unwrap_or(u64::MAX)),
    };
    let deadline = settings
        .minutes
        .map(|m| start + Duration::from_secs_f64(m * 60.0));
    for number in numbers {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let case = Case::draw(settings.seed, number);
        let key = (case.cmd, case.engine, case.storage);
        if let Some(ms) = settings.expect_ms {
            expected.insert(key, Duration::from_millis(ms));
        }
        if case.fault.timed().is_some() && !expected.contains_key(&key) {
            let calibration = case::run(&world, &case.calibration(), Duration::ZERO);
            tally.add(&calibration, true);
            expected.insert(key, calibration.outcome.elapsed);
        }
        let took = expected.get(&key).copied().unwrap_or_default();
        let result = case::run(&world, &case, took);
        tally.add(&result, false);
    }
    let summary = tally.summary(settings.seed, start.elapsed().as_secs_f64() / 60.0);
    println!("{summary}");
    if let Ok(path) = std::env::var("DBBR_CHAOS_REPORT") {
        std::fs::write(&path, &summary).unwrap();
    }
    assert_eq!(
        tally.violated, 0,
        "{} of {} cases broke an invariant (see above; each prints the command that replays it)",
        tally.violated, tally.cases
    );
}
