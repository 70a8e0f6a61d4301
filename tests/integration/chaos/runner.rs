//! Runs one dbbr command under its fault: signals at a moment of its run,
//! its child killed, the proxy's fault on one kind of request. Returns how
//! it ended, after every process it started has ended too (a client left
//! running by a killed dbbr still commits, or not, before anything is
//! checked).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{wait_until, Fault as ProxyFault, Proxy, RequestKind};

use super::plan::{Action, Fault};

/// How a command ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Its exit code (none when a signal killed it).
    pub code: Option<i32>,
    /// The signal that killed it.
    pub killed_by: Option<i32>,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
    /// When SIGTERM was sent, after the start, if it was sent while the
    /// command ran.
    pub term_at: Option<Duration>,
    /// When SIGKILL was sent to dbbr.
    pub kill_at: Option<Duration>,
    /// The child killed, and when.
    pub child_killed: Option<(String, Duration)>,
    /// Whether the fault happened at all (a signal sent before the command
    /// ended, a request the proxy faulted).
    pub landed: bool,
    /// Whether the command had to be killed for running too long.
    pub hung: bool,
    /// The requests the proxy saw while the command ran.
    pub requests: Vec<(String, ProxyFault)>,
    /// Child processes that outlived dbbr by more than 15 s.
    pub stragglers: Vec<String>,
}

impl Outcome {
    /// `exit 1`, `killed by signal 9`, ...
    pub fn status(&self) -> String {
        match (self.code, self.killed_by) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "no status".into(),
        }
    }
}

/// How long a command may run without a signal before it counts as hung.
const HUNG: Duration = Duration::from_secs(150);
/// How long a signalled command may take before it is killed.
const AFTER_SIGNAL: Duration = Duration::from_secs(15);

/// Runs `cmd` with `fault`; timed faults fall at their fraction of
/// `expected`. `children` are the names of the processes a child fault may
/// kill; `newest` is the object a fault aimed at the newest backup hits.
pub fn run(
    mut cmd: Command,
    fault: &Fault,
    expected: Duration,
    proxy: &Proxy,
    children: &[&str],
    newest: &str,
) -> Outcome {
    let armed = arm_proxy(proxy, fault, newest);
    let seen_before = proxy.seen().len();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let at = fault.timed().map(|f| expected.mul_f64(f));
    let mut outcome = Outcome::default();
    let mut descendants: BTreeMap<u32, String> = BTreeMap::new();
    let mut frozen_since: Option<Instant> = None;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let now = start.elapsed();
        for (p, name) in descendants_of(pid) {
            descendants.entry(p).or_insert(name);
        }
        match fault {
            Fault::Term(_) if outcome.term_at.is_none() && Some(now) >= at => {
                send(pid, "TERM");
                outcome.term_at = Some(now);
                outcome.landed = true;
            }
            Fault::Kill(_) if outcome.kill_at.is_none() && Some(now) >= at => {
                send(pid, "KILL");
                outcome.kill_at = Some(now);
                outcome.landed = true;
            }
            Fault::KillChild(_) if outcome.child_killed.is_none() && Some(now) >= at => {
                if let Some((p, name)) = running_child(pid, children) {
                    // Stopped first: a child that was already exiting (its
                    // status set, its output all written) cannot stop, and
                    // a kill then would not change how it ended.
                    send(p, "STOP");
                    if wait_until(Duration::from_millis(500), || state_of(p) == Some('T')) {
                        send(p, "KILL");
                        outcome.child_killed = Some((name, now));
                        outcome.landed = true;
                    } else {
                        send(p, "CONT");
                    }
                }
            }
            Fault::Proxy {
                action: Action::Freeze,
                ..
            } if outcome.term_at.is_none() => {
                if frozen_since.is_none() && armed.load(Ordering::SeqCst) {
                    frozen_since = Some(Instant::now());
                }
                if frozen_since.is_some_and(|t| t.elapsed() >= Duration::from_secs(1)) {
                    send(pid, "TERM");
                    outcome.term_at = Some(now);
                }
            }
            _ => {}
        }
        let limit = match outcome.term_at {
            Some(t) => t + AFTER_SIGNAL,
            None => HUNG,
        };
        if now > limit && outcome.kill_at.is_none() {
            send(pid, "KILL");
            outcome.hung = true;
            outcome.kill_at = Some(now);
        }
        thread::sleep(Duration::from_millis(10));
    };
    outcome.elapsed = start.elapsed();
    outcome.code = status.code();
    outcome.killed_by = status.signal();
    outcome.stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    outcome.stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    // A client or dump tool that outlived dbbr finishes (or not) first.
    let alive = |p: &u32| std::path::Path::new(&format!("/proc/{p}")).exists();
    wait_until(AFTER_SIGNAL, || !descendants.keys().any(alive));
    outcome.stragglers = descendants
        .iter()
        .filter(|(p, _)| alive(p))
        .map(|(p, name)| {
            send(*p, "KILL");
            format!("{name} ({p})")
        })
        .collect();
    proxy.set(|_| ProxyFault::Pass);
    outcome.requests = proxy.seen()[seen_before..].to_vec();
    if matches!(fault, Fault::Proxy { .. }) {
        outcome.landed = outcome.requests.iter().any(|(_, f)| *f != ProxyFault::Pass);
    }
    outcome
}

/// Sets the proxy's fault for the command; the flag tells when it first
/// faulted a request.
fn arm_proxy(proxy: &Proxy, fault: &Fault, newest: &str) -> Arc<AtomicBool> {
    let fired = Arc::new(AtomicBool::new(false));
    let Fault::Proxy {
        kind,
        action,
        once,
        cut_at,
        newest: aimed,
    } = *fault
    else {
        proxy.set(|_| ProxyFault::Pass);
        return fired;
    };
    let flag = Arc::clone(&fired);
    let target = format!("/{newest}.manifest.json");
    proxy.set(move |line| {
        let chosen = RequestKind::of(line) == kind && (!aimed || line.contains(&target));
        if !chosen || (once && flag.load(Ordering::SeqCst)) {
            return ProxyFault::Pass;
        }
        flag.store(true, Ordering::SeqCst);
        match action {
            Action::Freeze => ProxyFault::Stall,
            Action::Status500 => ProxyFault::Status(500),
            Action::Cut if matches!(kind, RequestKind::Put | RequestKind::Post) => {
                ProxyFault::CutAfter(cut_at)
            }
            Action::Cut => ProxyFault::CutReply(cut_at),
        }
    });
    fired
}

/// Every process below `pid`, with its name.
pub fn descendants_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                let name = std::fs::read_to_string(format!("/proc/{c}/comm")).unwrap_or_default();
                out.push((c, name.trim().to_string()));
                queue.push(c);
            }
        }
    }
    out
}

/// A live child of `pid` named one of `names` doing real work (not a
/// `--version` probe, not a process that has ended already).
fn running_child(pid: u32, names: &[&str]) -> Option<(u32, String)> {
    descendants_of(pid).into_iter().find(|(p, name)| {
        let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        // The state follows the parenthesised name.
        let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
        names.contains(&name.as_str())
            && !cmdline.is_empty()
            && !String::from_utf8_lossy(&cmdline).contains("--version")
            && matches!(state, Some(Some('R' | 'S' | 'D')))
    })
}

/// The state letter of process `pid` (`R`, `S`, `T`, `Z`, ...), if it is
/// there.
fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Sends `sig` to `pid`, which may have ended already.
fn send(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
