//! What the matrix prints: a line per case, a block per violated case
//! (seed, case, replay command, command line, fault, exit, time, output
//! tail), counts per command and fault kind, and the distinct violations.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::case::CaseResult;
use super::invariants::tail;

/// Counts of one command and fault kind.
#[derive(Default)]
struct Row {
    cases: u32,
    landed: u32,
    passed: u32,
    violated: u32,
}

/// One distinct violation: how often, and the first case that showed it.
struct Finding {
    invariant: u8,
    cases: u32,
    first: String,
}

/// Everything counted so far.
#[derive(Default)]
pub struct Tally {
    rows: BTreeMap<(String, String), Row>,
    findings: BTreeMap<(String, String), Finding>,
    pub cases: u32,
    pub violated: u32,
}

impl Tally {
    /// Counts `r` and prints its line (and its block if it broke anything).
    pub fn add(&mut self, r: &CaseResult, calibration: bool) {
        let case = &r.case;
        self.cases += 1;
        let row = self
            .rows
            .entry((case.cmd.name().to_string(), case.fault.kind()))
            .or_default();
        row.cases += 1;
        row.landed += u32::from(r.outcome.landed);
        let title = format!(
            "{}{}; fault: {} -> {} after {:.2}s",
            case.title(),
            if calibration { " (calibration)" } else { "" },
            case.fault,
            r.outcome.status(),
            r.outcome.elapsed.as_secs_f64()
        );
        if r.violations.is_empty() {
            row.passed += 1;
            println!("{title}: ok");
            if std::env::var_os("DBBR_CHAOS_VERBOSE").is_some() {
                println!("{}", block(r, &title));
            }
            return;
        }
        row.violated += 1;
        self.violated += 1;
        let block = block(r, &title);
        println!("{block}");
        let mut counted = std::collections::BTreeSet::new();
        for v in &r.violations {
            let finding = self
                .findings
                .entry((case.cmd.name().to_string(), v.class.clone()))
                .or_insert_with(|| Finding {
                    invariant: v.invariant,
                    cases: 0,
                    first: format!(
                        "case {} ({}; {}): {}",
                        case.number,
                        case.fault.kind(),
                        short(&v.detail),
                        replay(r)
                    ),
                });
            if counted.insert(v.class.clone()) {
                finding.cases += 1;
            }
        }
    }

    /// The counts and the distinct violations, as printed at the end.
    pub fn summary(&self, seed: u64, minutes: f64) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "fault matrix: seed {seed}, {} cases in {minutes:.1} min, {} passed, {} with violations",
            self.cases,
            self.cases - self.violated,
            self.violated
        );
        let _ = writeln!(
            s,
            "{:<14} {:<30} {:>5} {:>6} {:>6} {:>9}",
            "COMMAND", "FAULT", "CASES", "LANDED", "PASSED", "VIOLATED"
        );
        let mut per_cmd: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
        for ((cmd, fault), row) in &self.rows {
            let _ = writeln!(
                s,
                "{cmd:<14} {fault:<30} {:>5} {:>6} {:>6} {:>9}",
                row.cases, row.landed, row.passed, row.violated
            );
            let t = per_cmd.entry(cmd).or_default();
            t.0 += row.cases;
            t.1 += row.passed;
            t.2 += row.violated;
        }
        let _ = writeln!(s, "per command:");
        for (cmd, (cases, passed, violated)) in per_cmd {
            let _ = writeln!(
                s,
                "{cmd:<14} {cases:>5} cases, {passed:>5} passed, {violated:>5} violated"
            );
        }
        if !self.findings.is_empty() {
            let _ = writeln!(
                s,
                "distinct violations (command: invariant: what, cases, first):"
            );
            for ((cmd, class), f) in &self.findings {
                let _ = writeln!(
                    s,
                    "{cmd}: [{}] {class}: {} case(s), first {}",
                    f.invariant, f.cases, f.first
                );
            }
        }
        s
    }
}

/// The command that replays the case of `r`.
pub fn replay(r: &CaseResult) -> String {
    let mut line = format!(
        "scripts/chaos --seed {} --case {}",
        r.case.seed, r.case.number
    );
    if r.case.fault.timed().is_some() {
        // The same moment as this run's, not one from a new measurement.
        line.push_str(&format!(" --expect-ms {}", r.expected.as_millis()));
    }
    line
}

/// The printed block of a case that broke invariants.
fn block(r: &CaseResult, title: &str) -> String {
    let case = &r.case;
    let o = &r.outcome;
    let mut s = String::new();
    let heading = if r.violations.is_empty() {
        "PASSED"
    } else {
        "VIOLATION"
    };
    let _ = writeln!(s, "--- {heading}: {title}");
    let _ = writeln!(
        s,
        "seed {} case {}; replay: {}",
        case.seed,
        case.number,
        replay(r)
    );
    let _ = writeln!(s, "command: {}", r.command);
    let mut fault = case.fault.to_string();
    if let Some(t) = o.term_at {
        let _ = write!(fault, " (SIGTERM sent at {:.2}s)", t.as_secs_f64());
    }
    if let Some(t) = o.kill_at {
        let _ = write!(fault, " (SIGKILL sent at {:.2}s)", t.as_secs_f64());
    }
    if let Some((name, t)) = &o.child_killed {
        let _ = write!(fault, " ({name} killed at {:.2}s)", t.as_secs_f64());
    }
    if !o.landed {
        fault.push_str(" (did not land)");
    }
    let _ = writeln!(s, "fault: {fault}");
    let _ = writeln!(
        s,
        "exit: {} after {:.2}s",
        o.status(),
        o.elapsed.as_secs_f64()
    );
    for v in &r.violations {
        let _ = writeln!(
            s,
            "VIOLATED [{}] {}: {}",
            v.invariant,
            v.class,
            short(&v.detail)
        );
    }
    let faulted: Vec<&String> = o
        .requests
        .iter()
        .filter(|(_, f)| *f != crate::common::Fault::Pass)
        .map(|(l, _)| l)
        .take(3)
        .collect();
    if !faulted.is_empty() {
        let _ = writeln!(s, "faulted requests: {faulted:?}");
    }
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains(" WARN "))
        .take(6)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(s, "errors and warnings:\n{}", indent(&errors.join("\n")));
    }
    let _ = writeln!(s, "stdout tail:\n{}", indent(&tail(&o.stdout, 6)));
    let _ = write!(s, "stderr tail:\n{}", indent(&tail(&o.stderr, 10)));
    s
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {}", short(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// At most 400 characters of `text`.
fn short(text: &str) -> String {
    if text.chars().count() <= 400 {
        text.to_string()
    } else {
        text.chars().take(400).collect::<String>() + "..."
    }
}
