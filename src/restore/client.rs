//! The restore client (`psql`, `pg_restore`, `mariadb`) as a [`Write`]: its
//! stdin. The mirror image of the dump's reader, with the same rule: end of
//! input is not success. The client commits what it has when its input
//! ends, so on any failure upstream it is killed before its stdin closes.

use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};

use super::retarget::Retarget;
use crate::dump::stderr::StderrTail;
use crate::error::Stage;
use crate::redact::redact;

/// How often a finishing client is looked at.
const FINISH_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// A running restore client.
pub(crate) struct ClientWriter {
    child: Arc<Mutex<Option<Child>>>,
    stdin: Option<ChildStdin>,
    stderr: Option<StderrTail>,
    program: String,
}

impl ClientWriter {
    /// Starts `cmd` with stdin piped, stdout discarded and stderr drained.
    pub(crate) fn start(mut cmd: Command, program: &str) -> io::Result<ClientWriter> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Finished or killed by the thread that starts it: it ends with
        // dbbr even while it waits for a statement rather than its input.
        crate::ffi::die_with_parent(&mut cmd);
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        let stderr = match child.stderr.take() {
            Some(e) => match StderrTail::start(e, program, "dbbr::restore") {
                Ok(tail) => Some(tail),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(e);
                }
            },
            None => None,
        };
        tracing::debug!(target: "dbbr::restore", pid = child.id(), program, "client started");
        Ok(ClientWriter {
            child: Arc::new(Mutex::new(Some(child))),
            stdin,
            stderr,
            program: program.to_string(),
        })
    }

    /// Ends the input (which lets the client commit), waits, and checks its
    /// exit status: `Err` with the status and the last stderr lines. While
    /// it waits the client stays where its [`killer`](Self::killer) finds
    /// it: the statements still in its input (a dump's index builds, which
    /// can take hours) are stopped by a signal as the ones before them.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let status = loop {
            let mut slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
            let Some(child) = slot.as_mut() else {
                return Err(format!("{} is gone", self.program));
            };
            match child.try_wait() {
                Ok(Some(status)) => {
                    slot.take();
                    break status;
                }
                Ok(None) => {}
                Err(e) => return Err(format!("waiting for {}: {e}", self.program)),
            }
            drop(slot);
            std::thread::sleep(FINISH_POLL);
        };
        let tail = self.tail();
        if status.success() {
            return Ok(());
        }
        let mut message = match (status.code(), status.signal()) {
            (Some(code), _) => format!("{} exited with status {code}", self.program),
            (None, Some(signal)) => format!("{} was killed by signal {signal}", self.program),
            _ => format!("{} failed: {status}", self.program),
        };
        if !tail.is_empty() {
            message.push_str(": ");
            message.push_str(&tail);
        }
        Err(redact(&message))
    }

    /// Kills the client (SIGKILL) before its input ends, so that it commits
    /// nothing, and returns its last stderr lines.
    /// The writer is unusable afterwards.
    pub(crate) fn kill_now(&mut self) -> String {
        self.terminate();
        self.tail()
    }

    /// A handle that kills the client from another thread (when a signal
    /// arrives while a write to it is blocked).
    pub(crate) fn killer(&self) -> ClientKiller {
        ClientKiller(Arc::clone(&self.child))
    }

    fn take_child(&mut self) -> Option<Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn terminate(&mut self) {
        if let Some(mut child) = self.take_child() {
            // Kill first: closing stdin first would let it commit.
            let _ = child.kill();
            drop(self.stdin.take());
            let _ = child.wait();
            tracing::debug!(target: "dbbr::restore", program = %self.program, "client killed");
        }
    }

    fn tail(&mut self) -> String {
        self.stderr
            .take()
            .map(StderrTail::finish)
            .unwrap_or_default()
    }
}

/// Kills a running client from another thread; see
/// [`ClientWriter::killer`]. Its writer then fails, and reports it killed.
#[derive(Debug, Clone)]
pub(crate) struct ClientKiller(Arc<Mutex<Option<Child>>>);

impl ClientKiller {
    /// A killer of the process in `child`.
    pub(crate) fn of(child: Arc<Mutex<Option<Child>>>) -> ClientKiller {
        ClientKiller(child)
    }

    /// Sends SIGKILL to the client if it is still running.
    pub(crate) fn kill(&self) {
        if let Some(child) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = child.kill();
        }
    }
}

impl Write for ClientWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.stdin.as_mut() {
            Some(stdin) => stdin.write(buf),
            None => Err(io::Error::other("the restore client's input is closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.stdin.as_mut() {
            Some(stdin) => stdin.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for ClientWriter {
    /// An unfinished client is killed: dropping must never commit.
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Where a restore's decoded stream goes, and how it ends: a client is
/// finished (it may commit) only by [`complete`](Finish::complete), and
/// killed (it commits nothing) by [`abandon`](Finish::abandon); a writer is
/// flushed.
pub(super) trait Finish: Write + Send {
    /// Ends the input normally (everything upstream was checked) and checks
    /// the outcome.
    fn complete(self: Box<Self>) -> Result<(), String>;
    /// Gives up: every client is killed before its input ends. Returns the
    /// last error lines of the client.
    fn abandon(&mut self) -> String;
    /// Handles that kill the clients from another thread.
    fn killers(&self) -> Vec<ClientKiller>;
    /// The stage a failure to write here is reported at.
    fn stage(&self) -> Stage {
        Stage::Client
    }
}

impl Finish for ClientWriter {
    fn complete(self: Box<Self>) -> Result<(), String> {
        self.finish()
    }

    fn abandon(&mut self) -> String {
        self.kill_now()
    }

    fn killers(&self) -> Vec<ClientKiller> {
        vec![self.killer()]
    }
}

impl Finish for Retarget<ClientWriter> {
    fn complete(self: Box<Self>) -> Result<(), String> {
        self.into_inner()
            .map_err(|e| e.to_string())
            .and_then(ClientWriter::finish)
    }

    fn abandon(&mut self) -> String {
        self.get_mut().kill_now()
    }

    fn killers(&self) -> Vec<ClientKiller> {
        vec![self.get_ref().killer()]
    }
}

impl Finish for super::ExistingRoles<ClientWriter> {
    fn complete(self: Box<Self>) -> Result<(), String> {
        self.into_inner()
            .map_err(|e| e.to_string())
            .and_then(ClientWriter::finish)
    }

    fn abandon(&mut self) -> String {
        self.get_mut().kill_now()
    }

    fn killers(&self) -> Vec<ClientKiller> {
        vec![self.get_ref().killer()]
    }
}

impl<W: Finish> Finish for super::pg_script::PgTransaction<W> {
    /// `COMMIT`, then the client's own end. A client that died after the
    /// `COMMIT` was sent may have died after the server committed: the
    /// server is asked, and a commit that took effect is a success.
    fn complete(mut self: Box<Self>) -> Result<(), String> {
        let check = self.take_check();
        let inner = self.commit().map_err(|e| e.to_string())?;
        let ended = Box::new(inner).complete();
        match (ended, check) {
            (Err(e), Some(check)) if check.committed() == Some(true) => {
                tracing::warn!("the restore client failed after the restore committed: {e}");
                Ok(())
            }
            (ended, _) => ended,
        }
    }

    fn abandon(&mut self) -> String {
        self.get_mut().abandon()
    }

    fn killers(&self) -> Vec<ClientKiller> {
        self.get_ref().killers()
    }
}

impl Finish for Box<dyn Write + Send> {
    fn complete(mut self: Box<Self>) -> Result<(), String> {
        self.flush().map_err(|e| e.to_string())
    }

    fn abandon(&mut self) -> String {
        String::new()
    }

    fn killers(&self) -> Vec<ClientKiller> {
        Vec::new()
    }

    fn stage(&self) -> Stage {
        Stage::Output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> ClientWriter {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        ClientWriter::start(cmd, "sh").unwrap()
    }

    #[test]
    fn finish_reports_success_and_failure() {
        let mut ok = sh("cat >/dev/null");
        ok.write_all(b"data").unwrap();
        ok.finish().unwrap();
        let mut bad = sh("cat >/dev/null; echo 'ERROR: nope' >&2; exit 3");
        bad.write_all(b"data").unwrap();
        let err = bad.finish().unwrap_err();
        assert_eq!(err, "sh exited with status 3: ERROR: nope");
    }

    #[test]
    fn killed_client_never_sees_end_of_input() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("committed");
        // Commits (writes the marker) only when its input ends.
        let mut client = sh(&format!("cat >/dev/null && touch '{}'", marker.display()));
        client.write_all(b"partial").unwrap();
        client.kill_now();
        assert!(!marker.exists(), "the client saw end of input");
        let client = sh(&format!("cat >/dev/null && touch '{}'", marker.display()));
        drop(client);
        assert!(!marker.exists(), "dropping let the client commit");
    }
}
