//! The restore client (`psql`, `pg_restore`, `mariadb`) as a [`Write`]: its
//! stdin. The mirror image of the dump's reader, with the same rule: end of
//! input is not success. The client commits what it has when its input
//! ends, so on any failure upstream it is killed before its stdin closes.

use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, Command, Stdio};

use super::retarget::Retarget;
use crate::dump::stderr::StderrTail;
use crate::redact::redact;

/// A running restore client.
pub(crate) struct ClientWriter {
    child: Option<Child>,
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
            child: Some(child),
            stdin,
            stderr,
            program: program.to_string(),
        })
    }

    /// Ends the input (which lets the client commit), waits, and checks its
    /// exit status: `Err` with the status and the last stderr lines.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let Some(mut child) = self.child.take() else {
            return Err(format!("{} is gone", self.program));
        };
        let status = child
            .wait()
            .map_err(|e| format!("waiting for {}: {e}", self.program))?;
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

    fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
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

/// How the end of a restore's output is handled: a client is finished
/// (it commits) or killed (it commits nothing); a writer is flushed.
pub(super) trait Finish: Write {
    /// Ends the input normally and checks the outcome.
    fn complete(self) -> Result<(), String>;
    /// Gives up: a client is killed before its input ends. Returns its last
    /// error lines.
    fn abandon(&mut self) -> String;
}

impl Finish for ClientWriter {
    fn complete(self) -> Result<(), String> {
        self.finish()
    }

    fn abandon(&mut self) -> String {
        self.kill_now()
    }
}

/// A writer that edits the dump on its way to a client.
pub(super) trait Filter: Write + Sized {
    /// Writes what it still holds and returns the client.
    fn into_client(self) -> io::Result<ClientWriter>;
    /// The client, for killing it.
    fn client(&mut self) -> &mut ClientWriter;
}

impl Filter for Retarget<ClientWriter> {
    fn into_client(self) -> io::Result<ClientWriter> {
        self.into_inner()
    }

    fn client(&mut self) -> &mut ClientWriter {
        self.get_mut()
    }
}

impl Filter for super::ExistingRoles<ClientWriter> {
    fn into_client(self) -> io::Result<ClientWriter> {
        self.into_inner()
    }

    fn client(&mut self) -> &mut ClientWriter {
        self.get_mut()
    }
}

impl<F: Filter> Finish for F {
    fn complete(self) -> Result<(), String> {
        self.into_client()
            .map_err(|e| e.to_string())
            .and_then(ClientWriter::finish)
    }

    fn abandon(&mut self) -> String {
        self.client().kill_now()
    }
}

impl Finish for Box<dyn Write + Send> {
    fn complete(mut self) -> Result<(), String> {
        self.flush().map_err(|e| e.to_string())
    }

    fn abandon(&mut self) -> String {
        String::new()
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
