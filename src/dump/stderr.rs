//! A child's stderr, drained on a thread: each line logged at debug level,
//! the last ones kept (bounded) for the error message.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::process::ChildStderr;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::redact::redact;

/// Stderr lines kept for the error message.
const TAIL_LINES: usize = 20;
/// Stderr bytes kept for the error message (about).
pub(crate) const TAIL_BYTES: usize = 4096;
/// Longest stderr line kept; the rest of it is dropped.
const LINE_BYTES: usize = 1024;
/// How long [`StderrTail::finish`] waits for stderr to close after the
/// child exited (a grandchild may hold it open).
const STDERR_GRACE: Duration = Duration::from_secs(2);

/// A child's stderr being drained on its own thread.
#[derive(Debug)]
pub(crate) struct StderrTail {
    tail: Arc<Mutex<Tail>>,
    done: mpsc::Receiver<()>,
}

impl StderrTail {
    /// Starts draining `stderr`; lines are logged under `target`, prefixed
    /// with `program`.
    pub(crate) fn start(
        stderr: ChildStderr,
        program: &str,
        target: &'static str,
    ) -> io::Result<StderrTail> {
        let tail = Arc::new(Mutex::new(Tail::default()));
        let (done_tx, done) = mpsc::channel();
        let shared = Arc::clone(&tail);
        let label = program.to_string();
        std::thread::Builder::new()
            .name("child-stderr".into())
            .spawn(move || {
                drain(stderr, &shared, &label, target);
                let _ = done_tx.send(());
            })?;
        Ok(StderrTail { tail, done })
    }

    /// The last lines joined with ` | `, redacted, once stderr has closed
    /// (or after a short grace period). Call after the child exited.
    pub(crate) fn finish(self) -> String {
        // The thread ends when stderr closes, normally as the child exits.
        let _ = self.done.recv_timeout(STDERR_GRACE);
        self.tail.lock().unwrap_or_else(|e| e.into_inner()).joined()
    }
}

/// The last stderr lines, bounded in count and size.
#[derive(Debug, Default)]
struct Tail {
    lines: VecDeque<String>,
    bytes: usize,
}

impl Tail {
    fn push(&mut self, line: String) {
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > TAIL_LINES || (self.bytes > TAIL_BYTES && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len();
            }
        }
    }

    fn joined(&self) -> String {
        let lines: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        lines.join(" | ")
    }
}

/// Reads `stderr` to its end, logging each line at debug level and keeping
/// the last ones in `tail`. Memory stays bounded whatever the child writes.
fn drain(mut stderr: ChildStderr, tail: &Mutex<Tail>, program: &str, target: &str) {
    let mut buf = vec![0u8; 8192];
    let mut line = Vec::with_capacity(256);
    let mut cut = false;
    let emit = |line: &mut Vec<u8>, cut: &mut bool| {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if !text.is_empty() {
            let mut text = redact(text);
            if *cut {
                text.push_str(" [...]");
            }
            tracing::debug!(target: "dbbr::child", child = target, "{program}: {text}");
            tail.lock().unwrap_or_else(|e| e.into_inner()).push(text);
        }
        line.clear();
        *cut = false;
    };
    loop {
        let n = match stderr.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        for piece in buf[..n].split_inclusive(|&b| b == b'\n') {
            let (body, ends) = match piece.split_last() {
                Some((b'\n', body)) => (body, true),
                _ => (piece, false),
            };
            let room = LINE_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&body[..body.len().min(room)]);
            cut |= body.len() > room;
            if ends {
                emit(&mut line, &mut cut);
            }
        }
    }
    emit(&mut line, &mut cut);
}
