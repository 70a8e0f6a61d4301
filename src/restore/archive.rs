//! A PostgreSQL archive (custom or tar format) restored the way a plain dump
//! is: `pg_restore -f -` turns it into an SQL script, which dbbr passes on
//! to the client inside the transaction it ends itself. pg_restore reads
//! the archive on its stdin as the restore decodes it; a thread relays its
//! stdout.

use std::io::{self, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::client::{ClientKiller, Finish};
use crate::dump::stderr::StderrTail;
use crate::redact::redact;

/// What the relay thread gives back: the client, and how relaying went.
type Relayed = (Box<dyn Finish>, io::Result<()>);

/// pg_restore's stdin as a [`Write`], its script relayed into a client.
pub(super) struct ArchiveScript {
    child: Arc<Mutex<Option<Child>>>,
    stdin: Option<ChildStdin>,
    stderr: Option<StderrTail>,
    relay: Option<JoinHandle<Relayed>>,
    killers: Vec<ClientKiller>,
    program: String,
}

impl ArchiveScript {
    /// Starts `cmd` (pg_restore writing a script to stdout), relaying its
    /// script into `client`.
    pub(super) fn start(
        mut cmd: Command,
        program: &str,
        mut client: Box<dyn Finish>,
    ) -> io::Result<ArchiveScript> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Finished or killed by the thread that starts it.
        crate::ffi::die_with_parent(&mut cmd);
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let stderr = match child.stderr.take() {
            Some(e) => Some(StderrTail::start(e, program, "dbbr::restore")?),
            None => None,
        };
        let child = Arc::new(Mutex::new(Some(child)));
        let own = ClientKiller::of(Arc::clone(&child));
        let mut killers = client.killers();
        killers.push(own.clone());
        let relay = std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            let result = loop {
                match stdout.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        if let Err(e) = client.write_all(&buf[..n]) {
                            // pg_restore must not block on a full pipe
                            // while dbbr writes its stdin.
                            own.kill();
                            break Err(e);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            (client, result)
        });
        Ok(ArchiveScript {
            child,
            stdin,
            stderr,
            relay: Some(relay),
            killers,
            program: program.to_string(),
        })
    }

    fn take_child(&mut self) -> Option<Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn tail(&mut self) -> String {
        self.stderr
            .take()
            .map(StderrTail::finish)
            .unwrap_or_default()
    }
}

impl Write for ArchiveScript {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.stdin.as_mut() {
            Some(stdin) => stdin.write(buf),
            None => Err(io::Error::other("pg_restore's input is closed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.stdin.as_mut() {
            Some(stdin) => stdin.flush(),
            None => Ok(()),
        }
    }
}

impl Finish for ArchiveScript {
    /// pg_restore must have read the whole archive and exited 0, and its
    /// whole script must have reached the client: only then the client
    /// ends (and commits).
    fn complete(mut self: Box<Self>) -> Result<(), String> {
        drop(self.stdin.take());
        let (mut client, relayed) = self
            .relay
            .take()
            .expect("the relay runs until completed")
            .join()
            .map_err(|_| "the relay of pg_restore's script failed".to_string())?;
        let status = match self.take_child() {
            Some(mut child) => child.wait().map_err(|e| e.to_string()),
            None => Err(format!("{} is gone", self.program)),
        };
        let tail = self.tail();
        let failed = match (&status, &relayed) {
            (Ok(s), Ok(())) if s.success() => None,
            (Ok(s), _) if !s.success() => Some(match (s.code(), s.signal()) {
                (Some(code), _) => format!("{} exited with status {code}", self.program),
                (None, Some(signal)) => format!("{} was killed by signal {signal}", self.program),
                _ => format!("{} failed: {s}", self.program),
            }),
            (_, Err(e)) => Some(format!("passing {}'s script on failed: {e}", self.program)),
            (Err(e), _) => Some(e.clone()),
            _ => None,
        };
        if let Some(mut message) = failed {
            let client_tail = client.abandon();
            if !tail.is_empty() {
                message.push_str(": ");
                message.push_str(&tail);
            }
            if !client_tail.is_empty() {
                message.push_str(&format!(" (client: {client_tail})"));
            }
            return Err(redact(&message));
        }
        client.complete()
    }

    fn abandon(&mut self) -> String {
        for killer in &self.killers {
            killer.kill();
        }
        drop(self.stdin.take());
        let client_tail = match self.relay.take().map(JoinHandle::join) {
            Some(Ok((mut client, _))) => client.abandon(),
            _ => String::new(),
        };
        if let Some(mut child) = self.take_child() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let tail = self.tail();
        match (tail.is_empty(), client_tail.is_empty()) {
            (_, false) => client_tail,
            (false, true) => format!("{}: {tail}", self.program),
            (true, true) => String::new(),
        }
    }

    fn killers(&self) -> Vec<ClientKiller> {
        self.killers.clone()
    }
}

impl Drop for ArchiveScript {
    /// Unfinished, everything is killed: the client never sees `COMMIT`.
    fn drop(&mut self) {
        if self.relay.is_some() {
            self.abandon();
        }
    }
}
