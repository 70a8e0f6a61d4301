//! Processes: waiting with a limit, finding a dump among dbbr's children,
//! signalling, and interactive client sessions that hold locks or
//! transactions open while a backup runs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{run_ok, stderr};

/// Polls `check` every 20 milliseconds for up to `limit`; whether it held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// Waits for `child` to exit, killing it and failing after `limit`.
pub fn wait_at_most(mut child: Child, limit: Duration) -> Output {
    let exited = wait_until(limit, || child.try_wait().unwrap().is_some());
    if !exited {
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        panic!("still running after {limit:?}: {}", stderr(&out));
    }
    child.wait_with_output().unwrap()
}

/// The pid of `parent`'s child process named `name`, if there is one;
/// panics if there are several.
pub fn child_named(parent: u32, name: &str) -> Option<u32> {
    let pids = children_named(parent, name);
    assert!(pids.len() <= 1, "several {name} children: {pids:?}");
    pids.first().copied()
}

/// The pids of `parent`'s child processes named `name`.
pub fn children_named(parent: u32, name: &str) -> Vec<u32> {
    let out = Command::new("pgrep")
        .args(["-P", &parent.to_string(), "-x", name])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// Stops process `pid` (SIGSTOP) if it is still running; whether it is now
/// held stopped (not gone, not a zombie waiting to be reaped).
pub fn hold(pid: u32) -> bool {
    let stopped = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    // The state is the field after the parenthesised command name: `T`
    // once the signal took effect; `Z` (or no process) if it had ended.
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
    };
    let settled = || !matches!(state(), Some('R' | 'S' | 'D'));
    stopped && wait_until(Duration::from_secs(1), settled) && state() == Some('T')
}

/// Lets process `pid`, held by [`hold`], go on (SIGCONT), if it is still
/// there.
pub fn release(pid: u32) {
    let _ = Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Waits up to 30 seconds for process `pid` to be gone (or a zombie, its
/// parent gone too); whether it went.
pub fn gone(pid: u32) -> bool {
    wait_until(Duration::from_secs(30), || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.split(' ').nth(2) == Some("Z"))
    })
}

/// Sends SIGTERM to `child` and asserts it exits 143 within `limit`; its
/// stderr. `what` names the case in a failure.
pub fn terminated_within(child: Child, limit: Duration, what: &str) -> String {
    let clock = Instant::now();
    signal(child.id(), "TERM");
    let out = wait_at_most(child, Duration::from_secs(30));
    let took = clock.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{what}: {err}");
    assert!(took < limit, "{what}: {took:?}");
    err
}

/// Sends `signal` (`TERM`, `KILL`, ...) to process `pid`.
pub fn signal(pid: u32, signal: &str) {
    run_ok(Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]));
}

/// An interactive SQL client session (psql, mariadb) reading statements
/// from a pipe, for holding a lock or a transaction open while a backup
/// runs. Killed when dropped.
pub struct Session {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Session {
    /// Starts the client `cmd`, which must read statements from stdin and
    /// print bare result rows (unaligned, no headers) unbuffered.
    pub fn start(cmd: &mut Command) -> Session {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Session {
            child,
            input,
            output,
        }
    }

    /// Sends `sql` and returns at once.
    pub fn send(&mut self, sql: &str) {
        self.input.write_all(sql.as_bytes()).unwrap();
        self.input.write_all(b"\n").unwrap();
        self.input.flush().unwrap();
    }

    /// Sends `sql`, which must end with a `SELECT` of one value, and waits
    /// until the session printed that value: everything before it is done.
    pub fn run(&mut self, sql: &str, expect: &str) {
        self.send(sql);
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), expect, "after {sql}");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
