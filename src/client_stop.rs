//! Stopping a database client dbbr started (a dump, a query, the set's
//! coordinator) before its end: it is asked first, with SIGINT, on which
//! `pg_dump`, `pg_restore` and `psql` send the server a cancel request for
//! the statement in progress, then killed (SIGKILL) if it has not exited
//! within [`GRACE`]. Killed outright, a client leaves its statement on the
//! server: one waiting for a lock stays queued for as long as the lock is
//! held.
//!
//! A client that leads a process group of its own (a dump tool, started
//! so: `pg_dumpall` runs a `pg_dump` per database and ignores SIGINT while
//! it waits for it) is signalled with its whole group, so that its own
//! clients cancel too and none outlives it.

use std::process::Child;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::process::{getpgid, kill_process, kill_process_group, Pid, Signal};

/// How long a client has to cancel its statement and exit.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// Stops `child` (SIGINT, then SIGKILL after [`GRACE`]) and reaps it.
pub(crate) fn stop(child: &mut Child) {
    if ask(|signal| alive(child, signal)) {
        kill(child);
    }
    let _ = child.wait();
}

/// [`stop`] for a child that another thread reaps: the lock is taken for
/// each look only, and the child is left in place (killed, not reaped)
/// for its owner. Nothing happens if the owner took it already.
pub(crate) fn stop_shared(child: &Mutex<Option<Child>>) {
    let look = |signal: bool| {
        let mut guard = child.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_mut().is_some_and(|c| alive(c, signal))
    };
    if ask(look) {
        if let Some(c) = child.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            kill(c);
        }
    }
}

/// Asks once (`look(true)`), then looks every 10 ms until the client is
/// gone or [`GRACE`] has passed: whether it is still running.
fn ask(mut look: impl FnMut(bool) -> bool) -> bool {
    if !look(true) {
        return false;
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        if !look(false) {
            return false;
        }
    }
    true
}

/// Whether `child` is still running; if so and `signal`, SIGINT is sent
/// to it.
fn alive(child: &mut Child, signal: bool) -> bool {
    let alive = matches!(child.try_wait(), Ok(None));
    if alive && signal {
        send(child, Signal::INT);
    }
    alive
}

/// SIGKILL for `child` (and its group) if it is still running.
fn kill(child: &mut Child) {
    if matches!(child.try_wait(), Ok(None)) {
        send(child, Signal::KILL);
    }
}

/// Sends `signal` to `child`, or to its process group if it leads one.
/// Only for a child not yet reaped: its pid, and so its group's id, are
/// still its own.
fn send(child: &Child, signal: Signal) {
    let Some(pid) = Pid::from_raw(child.id() as i32) else {
        return;
    };
    if getpgid(Some(pid)).is_ok_and(|group| group == pid) {
        let _ = kill_process_group(pid, signal);
    } else {
        let _ = kill_process(pid, signal);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::sync::Arc;

    use super::*;

    fn sh(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// A shell that ignores SIGINT, once it does.
    fn ignoring_sigint() -> Child {
        let mut child = sh("trap '' INT; echo ready; while :; do sleep 0.01; done");
        wait_ready(&mut child);
        child
    }

    /// Waits for the child's first line: its handler is set.
    fn wait_ready(child: &mut Child) {
        let mut line = String::new();
        let stdout = child.stdout.as_mut().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
    }

    #[test]
    fn a_client_that_handles_sigint_ends_on_its_own() {
        // A program that sets its handler as the clients do (a shell's
        // trap would not, were SIGINT ignored when the tests started).
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import signal, sys, time\n\
                 signal.signal(signal.SIGINT, lambda *_: sys.exit(7))\n\
                 print('ready', flush=True)\n\
                 time.sleep(100)",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        wait_ready(&mut child);
        stop(&mut child);
        // Its own exit status: its handler ended it, not SIGKILL.
        assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(7));
    }

    #[test]
    fn a_client_that_ignores_sigint_is_killed_after_the_grace() {
        let mut child = ignoring_sigint();
        let started = Instant::now();
        stop(&mut child);
        assert!(started.elapsed() >= GRACE, "{:?}", started.elapsed());
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(child.try_wait().unwrap().unwrap().signal(), Some(9));
    }

    /// A client leading a process group of its own that ignores SIGINT
    /// while it waits for a child of its own (as `pg_dumpall` runs
    /// `pg_dump`), with that child's handler; `sh` prints the child's
    /// status when it ends.
    fn leader_of(child: &str) -> Child {
        let script = format!("trap '' INT; {child}; echo \"child $?\"");
        let mut leader = Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        wait_ready(&mut leader);
        leader
    }

    /// What is left of the child's output, and how long it took to end.
    fn rest_of_output(child: &mut Child) -> (String, Duration) {
        let started = Instant::now();
        let mut rest = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        (rest, started.elapsed())
    }

    #[test]
    fn a_group_leader_s_own_clients_are_asked_too() {
        let mut leader = leader_of(
            "python3 -c \"import signal, sys, time\n\
             signal.signal(signal.SIGINT, lambda *_: sys.exit(7))\n\
             print('ready', flush=True)\n\
             time.sleep(20)\"",
        );
        stop(&mut leader);
        // The leader's child ended on SIGINT (7); the leader then ended
        // on its own, before the grace was out.
        let (rest, _) = rest_of_output(&mut leader);
        assert_eq!(rest, "child 7\n");
        assert_eq!(leader.try_wait().unwrap().unwrap().code(), Some(0));
    }

    #[test]
    fn a_group_leader_s_own_clients_are_killed_with_it() {
        // A child that ignores SIGINT too, as a background job does.
        let mut leader = leader_of("sleep 20 & echo ready; wait");
        stop(&mut leader);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(leader.try_wait().unwrap().unwrap().signal(), Some(9));
        // Nothing of the group holds the output open any more.
        let (rest, took) = rest_of_output(&mut leader);
        assert_eq!(rest, "");
        assert!(
            took < Duration::from_secs(5),
            "the child lived on: {took:?}"
        );
    }

    #[test]
    fn an_exited_client_is_only_reaped() {
        let mut child = sh("exit 3");
        std::thread::sleep(Duration::from_millis(100));
        stop(&mut child);
        assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(3));
    }

    #[test]
    fn shared_stop_leaves_the_child_to_its_owner() {
        let child = ignoring_sigint();
        let shared = Arc::new(Mutex::new(Some(child)));
        stop_shared(&shared);
        let mut child = shared.lock().unwrap().take().expect("still there");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(child.wait().unwrap().signal(), Some(9));

        // Taken by its owner already: nothing to do.
        let empty: Mutex<Option<Child>> = Mutex::new(None);
        stop_shared(&empty);
    }
}
