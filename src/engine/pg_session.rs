//! A long-lived `psql` session driven over its standard input: the
//! coordinator of a parallel backup set, which holds a transaction (its
//! locks and exported snapshot) open while other sessions read at that
//! snapshot. Connections go through libpq's own settings, as every client
//! dbbr starts does.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::redact::redact;

/// How many stderr lines an error quotes.
const TAIL_LINES: usize = 5;

/// How long closing the session may take before it is killed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `psql` reading statements from dbbr.
pub(crate) struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    marker: u64,
    /// The lines of the last query, also when it failed.
    partial: Vec<String>,
}

impl Session {
    /// Starts `cmd` (a `psql` with `-X -q -A -t -v ON_ERROR_STOP=1` and the
    /// connection's options and environment).
    pub(crate) fn start(mut cmd: Command) -> Result<Session> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| Error::Database {
            program: "psql".into(),
            message: format!("cannot start it: {e}"),
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // Bytes that are not UTF-8 (a SQL_ASCII database's names) are
            // read as replacement characters, not as the session's end.
            let mut stdout = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match stdout.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&line);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                if send.send(text.to_string()).is_err() {
                    return;
                }
            }
        });
        let tail = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&tail);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                let line = redact(&line);
                tracing::debug!(target: "dbbr::set", "psql: {line}");
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                kept.push(line);
                if kept.len() > TAIL_LINES {
                    kept.remove(0);
                }
            }
        });
        Ok(Session {
            child,
            stdin,
            lines,
            stderr: tail,
            marker: 0,
            partial: Vec::new(),
        })
    }

    /// Sends `sql` (one or more statements, each ending with `;`) and
    /// returns the lines it printed, waiting until `stop` says to give up
    /// (checked every 100 ms): then the session is killed and the result is
    /// [`Error::Interrupted`]. A failed statement ends psql
    /// (`ON_ERROR_STOP`): its error is an [`Error::Database`] with psql's
    /// last stderr lines.
    pub(crate) fn query(&mut self, sql: &str, stop: &dyn Fn() -> bool) -> Result<Vec<String>> {
        self.marker += 1;
        let marker = format!("__dbbr_done_{}__", self.marker);
        let script = format!("{sql}\n\\echo {marker}\n");
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(script.as_bytes())
                .and_then(|()| stdin.flush()),
            None => return Err(self.failed()),
        };
        if sent.is_err() {
            return Err(self.failed());
        }
        self.partial.clear();
        loop {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) if line == marker => return Ok(std::mem::take(&mut self.partial)),
                Ok(line) => self.partial.push(line),
                Err(RecvTimeoutError::Timeout) if stop() => {
                    self.kill();
                    return Err(Error::Interrupted);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(self.failed()),
            }
        }
    }

    /// The lines of `sql`'s output, as [`Session::query`] with the process's
    /// interrupt flag.
    pub(crate) fn run(&mut self, sql: &str) -> Result<Vec<String>> {
        self.query(sql, &crate::interrupt::interrupted)
    }

    /// psql's exit and last stderr lines as an error.
    fn failed(&mut self) -> Error {
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => break None,
            }
        };
        // Let the stderr thread take the last lines.
        std::thread::sleep(Duration::from_millis(20));
        let tail = self
            .stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join(" | ");
        let status = status.map_or("no exit".to_string(), |s| s.to_string());
        Error::Database {
            program: "psql".into(),
            message: redact(&format!("the session ended ({status}): {tail}")),
        }
    }

    /// What the last query printed before it failed.
    pub(crate) fn partial(&self) -> &[String] {
        &self.partial
    }

    /// The last lines psql wrote on stderr.
    pub(crate) fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join(" | ")
    }

    /// Ends the session: `sql` (e.g. `COMMIT;`), then end of input; killed
    /// if it does not exit within a few seconds.
    pub(crate) fn close(mut self, sql: &str) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(format!("{sql}\n\\q\n").as_bytes());
        }
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
    }

    /// Stops psql: asked to cancel its statement (a lock it waits for),
    /// then killed ([`crate::client_stop`]); its transaction ends with it.
    fn kill(&mut self) {
        self.stdin = None;
        crate::client_stop::stop(&mut self.child);
    }
}

impl Drop for Session {
    /// An abandoned session is killed: its transaction ends with it.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}
