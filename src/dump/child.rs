//! The running dump process: its stdout as a stream, its stderr drained on a
//! thread, its exit status checked at the end.

use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::stderr::StderrTail;
use crate::error::{Error, Result};
use crate::redact::redact;

/// The running dump's stdout as a [`Read`]: the plain bytes of the dump.
///
/// End of file is not success: call [`DumpReader::finish`] after reading to
/// the end to check the exit status. Dropping an unfinished reader stops the
/// child (asked to cancel its query, then killed: [`crate::client_stop`]) and
/// reaps it.
pub struct DumpReader {
    child: Arc<Mutex<Option<Child>>>,
    stdout: Option<ChildStdout>,
    stderr: Option<StderrTail>,
    pid: u32,
    eof: bool,
    program: String,
    database: String,
}

impl std::fmt::Debug for DumpReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpReader")
            .field("program", &self.program)
            .field("database", &self.database)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl DumpReader {
    /// Spawns `cmd` with stdin closed and stdout and stderr piped. `program`
    /// names it in messages; `database` is the dump's label.
    pub(super) fn start(mut cmd: Command, program: &str, database: &str) -> io::Result<Self> {
        // A process group of its own: a stop reaches the dump tool's own
        // children too (pg_dumpall's pg_dump; see `client_stop`).
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let stderr = match stderr.map(|e| StderrTail::start(e, program, "dbbr::dump")) {
            Some(Ok(tail)) => Some(tail),
            Some(Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            None => None,
        };
        let pid = child.id();
        tracing::debug!(target: "dbbr::dump", pid, program, database, "dump started");
        Ok(DumpReader {
            child: Arc::new(Mutex::new(Some(child))),
            stdout,
            stderr,
            pid,
            eof: false,
            program: program.to_string(),
            database: database.to_string(),
        })
    }

    /// Waits for the child and checks that it exited with status 0;
    /// otherwise an [`Error::Dump`] with the exit status (or signal) and the
    /// last lines of its stderr, redacted. Call after reading to the end:
    /// output left unread is read and discarded, and makes the dump fail.
    /// To abandon a dump, use [`DumpReader::kill`].
    pub fn finish(mut self) -> Result<()> {
        let mut unread = 0;
        if let Some(mut stdout) = self.stdout.take() {
            if !self.eof {
                unread = io::copy(&mut stdout, &mut io::sink()).unwrap_or(0);
            }
        }
        let Some(mut child) = self.take_child() else {
            return Ok(());
        };
        let status = child
            .wait()
            .map_err(|e| Error::io(format!("waiting for {}", self.program), e))?;
        let tail = self
            .stderr
            .take()
            .map(StderrTail::finish)
            .unwrap_or_default();
        tracing::debug!(target: "dbbr::dump", pid = self.pid, program = %self.program, %status, "dump ended");
        let mut message = if let Some(code) = status.code() {
            if code == 0 {
                if unread == 0 {
                    return Ok(());
                }
                return Err(Error::Dump {
                    database: self.database.clone(),
                    message: format!(
                        "{} output was not read to the end ({unread} bytes left)",
                        self.program
                    ),
                });
            }
            format!("{} exited with status {code}", self.program)
        } else if let Some(signal) = status.signal() {
            format!("{} was killed by signal {signal}", self.program)
        } else {
            format!("{} failed: {status}", self.program)
        };
        if !tail.is_empty() {
            message.push_str(": ");
            message.push_str(&tail);
        }
        Err(Error::Dump {
            database: self.database.clone(),
            message: redact(&message),
        })
    }

    /// The child's stdout, to hand to another process; reading this
    /// reader then yields nothing.
    pub(crate) fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.eof = true;
        self.stdout.take()
    }

    /// Stops a dump whose output is no longer wanted: if it had failed
    /// (given `grace` to end on its own, for a reader that stopped because
    /// the dump did), its error (as [`DumpReader::finish`] reports it);
    /// otherwise it is killed and the result is `Ok`.
    pub(crate) fn end_early(mut self, grace: Duration) -> Result<()> {
        self.stdout = None;
        let started = Instant::now();
        let exited = loop {
            let exited = self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || started.elapsed() >= grace {
                break exited;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        match exited {
            Some(status) if !status.success() && status.signal().is_none() => self.finish(),
            _ => {
                self.terminate();
                Ok(())
            }
        }
    }

    /// Stops the child (SIGINT, so that it cancels its query on the server,
    /// then SIGKILL after a second) and reaps it.
    pub fn kill(mut self) {
        self.terminate();
    }

    /// The child's pid.
    #[cfg(test)]
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// A handle that kills the child from another thread, e.g. when a signal
    /// arrives while a read is blocked on a dump that produces nothing.
    pub fn killer(&self) -> DumpKiller {
        DumpKiller(Arc::clone(&self.child))
    }

    fn take_child(&mut self) -> Option<Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn terminate(&mut self) {
        self.stdout = None;
        if let Some(mut child) = self.take_child() {
            crate::client_stop::stop(&mut child);
            tracing::debug!(target: "dbbr::dump", pid = self.pid, program = %self.program, "dump stopped");
        }
    }
}

/// Stops a running dump from another thread; see [`DumpReader::killer`].
/// The reader still reaps the child and reports it stopped.
#[derive(Debug, Clone)]
pub struct DumpKiller(Arc<Mutex<Option<Child>>>);

impl DumpKiller {
    /// Stops the dump if it is still running: SIGINT, so that it cancels
    /// its query on the server, then SIGKILL after a second.
    pub fn kill(&self) {
        crate::client_stop::stop_shared(&self.0);
    }
}

impl Read for DumpReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(stdout) = self.stdout.as_mut() else {
            return Ok(0);
        };
        let n = stdout.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}

impl Drop for DumpReader {
    fn drop(&mut self) {
        self.terminate();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::stderr::TAIL_BYTES;
    use std::path::Path;
    use std::time::Instant;

    use super::*;

    fn sh(script: &str) -> DumpReader {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        DumpReader::start(cmd, "pg_dump", "shop").unwrap()
    }

    fn read_all(reader: &mut DumpReader) -> Vec<u8> {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        out
    }

    fn dump_message(err: Error) -> String {
        match err {
            Error::Dump { database, message } => {
                assert_eq!(database, "shop");
                message
            }
            other => panic!("expected a dump error, got {other:?}"),
        }
    }

    fn gone(pid: u32) -> bool {
        !Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn success() {
        let mut reader = sh("echo data; echo 'some notice' >&2");
        assert_eq!(read_all(&mut reader), b"data\n");
        let pid = reader.id();
        reader.finish().unwrap();
        assert!(gone(pid));
    }

    #[test]
    fn exit_status_and_stderr_tail() {
        let mut reader = sh("echo data; echo oops >&2; echo 'second line' >&2; exit 3");
        assert_eq!(read_all(&mut reader), b"data\n");
        let message = dump_message(reader.finish().unwrap_err());
        assert_eq!(message, "pg_dump exited with status 3: oops | second line");
    }

    #[test]
    fn exit_status_without_stderr() {
        let mut reader = sh("exit 1");
        assert_eq!(read_all(&mut reader), b"");
        let err = reader.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "dump of shop failed: pg_dump exited with status 1"
        );
    }

    #[test]
    fn killed_by_signal() {
        let mut reader = sh("echo partial; echo dying >&2; kill -9 $$");
        assert_eq!(read_all(&mut reader), b"partial\n");
        let message = dump_message(reader.finish().unwrap_err());
        assert_eq!(message, "pg_dump was killed by signal 9: dying");
    }

    #[test]
    fn stderr_is_redacted() {
        crate::redact::add_secret("child-secret-8c1f");
        let mut reader = sh("echo 'auth failed for child-secret-8c1f' >&2; exit 2");
        read_all(&mut reader);
        let message = dump_message(reader.finish().unwrap_err());
        assert!(!message.contains("child-secret-8c1f"), "{message}");
        assert!(message.contains("auth failed for ***"), "{message}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let mut reader =
            sh("i=1; while [ $i -le 100 ]; do echo line$i >&2; i=$((i+1)); done; exit 1");
        read_all(&mut reader);
        let message = dump_message(reader.finish().unwrap_err());
        assert!(message.ends_with("line99 | line100"), "{message}");
        assert!(message.contains(": line81 | line82"), "{message}");
        assert!(!message.contains("line80 "), "{message}");
    }

    #[test]
    fn tail_is_bounded_in_bytes() {
        let mut reader = sh("yes 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' | head -c 1000000 >&2; \
             head -c 100000 /dev/zero | tr '\\0' b >&2; echo >&2; echo last >&2; exit 1");
        read_all(&mut reader);
        let message = dump_message(reader.finish().unwrap_err());
        assert!(message.len() < 2 * TAIL_BYTES, "{}", message.len());
        assert!(
            message.ends_with("b [...] | last"),
            "{}",
            &message[message.len() - 40..]
        );
    }

    #[test]
    fn chatty_stderr_does_not_deadlock() {
        let mut reader = sh("yes 'warning: something' | head -c 1000000 >&2; \
             head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done");
        assert_eq!(read_all(&mut reader), b"done\n");
        reader.finish().unwrap();
    }

    #[test]
    fn large_stdout_is_read_fully() {
        let mut reader = sh("head -c 52428800 /dev/zero; echo 'progress' >&2");
        let n = io::copy(&mut reader, &mut io::sink()).unwrap();
        assert_eq!(n, 52_428_800);
        reader.finish().unwrap();
    }

    #[test]
    fn finish_before_the_end_fails() {
        let mut reader = sh("echo a; echo b");
        let mut first = [0u8; 1];
        reader.read_exact(&mut first).unwrap();
        let message = dump_message(reader.finish().unwrap_err());
        assert!(
            message.contains("not read to the end (3 bytes left)"),
            "{message}"
        );
    }

    #[test]
    fn kill_stops_and_reaps() {
        let mut cmd = Command::new("sleep");
        cmd.arg("100");
        let reader = DumpReader::start(cmd, "sleep", "shop").unwrap();
        let pid = reader.id();
        assert!(!gone(pid));
        let start = Instant::now();
        reader.kill();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(gone(pid));
    }

    #[test]
    fn drop_kills_and_reaps() {
        let reader = sh("echo started; exec sleep 100");
        let pid = reader.id();
        drop(reader);
        assert!(gone(pid));

        // An exited but unfinished child is reaped too (no zombie).
        let mut reader = sh("echo quick");
        read_all(&mut reader);
        let pid = reader.id();
        std::thread::sleep(Duration::from_millis(50));
        drop(reader);
        assert!(gone(pid));
    }

    #[test]
    fn grandchild_holding_stderr_does_not_block_finish() {
        let mut reader = sh("sleep 5 >/dev/null 2>&2 & echo err >&2; exit 4");
        read_all(&mut reader);
        let start = Instant::now();
        let message = dump_message(reader.finish().unwrap_err());
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(message, "pg_dump exited with status 4: err");
    }
}
