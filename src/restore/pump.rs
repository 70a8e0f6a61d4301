//! The one loop that streams a decoded backup (or a part of a set) into a
//! restore client, keeping the rule that end of input is not success: the
//! client is completed only when every byte was read and checked, and
//! abandoned (killed before its input ends) on any failure or stop. A
//! watcher kills the clients as soon as the stop flag is set, so that a
//! client blocked on a lock cannot hold the restore up.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use super::client::Finish;
use super::CANCEL_POLL;
use crate::decode::Decoder;
use crate::error::{Error, Result, Stage};
use crate::storage::Download;
use crate::stored::CHUNK;

/// A restore failure of `object` at `stage`.
pub(super) fn failed_at(object: &str, stage: Stage, message: String) -> Error {
    Error::Restore {
        backup: object.into(),
        stage,
        message,
    }
}

/// Streams `decoder` (the stored `object`) into `out`, calling `advanced`
/// with each piece's length and the decoder after it was written; the
/// plain and stored byte counts on success. [`Error::Interrupted`] once
/// `stopped` says so.
pub(super) fn pump(
    mut decoder: Decoder<Download>,
    out: Box<dyn Finish + '_>,
    object: &str,
    stopped: &(dyn Fn() -> bool + Sync),
    mut advanced: impl FnMut(u64, &Decoder<Download>),
) -> Result<(u64, u64)> {
    let killers = out.killers();
    let copying = AtomicBool::new(true);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while copying.load(Ordering::Relaxed) {
                if stopped() {
                    killers.iter().for_each(|k| k.kill());
                    return;
                }
                std::thread::sleep(CANCEL_POLL);
            }
        });
        let _done = crate::interrupt::ClearOnDrop(&copying);
        let mut out = out;
        let mut buf = vec![0u8; CHUNK];
        loop {
            if stopped() {
                out.abandon();
                return Err(Error::Interrupted);
            }
            let n = match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // Kill the client first: it must not see end of input.
                    // The decoder then says which stage failed.
                    let tail = out.abandon();
                    if stopped() || crate::interrupt::interrupted() {
                        return Err(Error::Interrupted);
                    }
                    let err = match decoder.finish() {
                        Err(e) => at_stage(object, e),
                        Ok(_) => failed_at(object, Stage::Download, "the stream failed".into()),
                    };
                    return Err(with_tail(err, &tail));
                }
            };
            if let Err(e) = out.write_all(&buf[..n]) {
                let tail = out.abandon();
                if stopped() {
                    return Err(Error::Interrupted);
                }
                return Err(with_tail(
                    failed_at(object, out.stage(), e.to_string()),
                    &tail,
                ));
            }
            advanced(n as u64, &decoder);
        }
        let stats = match decoder.finish() {
            Ok(stats) => stats,
            Err(e) => {
                let tail = out.abandon();
                return Err(with_tail(at_stage(object, e), &tail));
            }
        };
        if stopped() {
            out.abandon();
            return Err(Error::Interrupted);
        }
        let stage = out.stage();
        out.complete().map_err(|message| {
            if stopped() {
                Error::Interrupted
            } else {
                failed_at(object, stage, message)
            }
        })?;
        Ok((stats.raw_bytes, stats.stored_bytes))
    })
}

/// A decode failure of backup `object` as a restore error naming the stage;
/// other errors as they are.
pub(super) fn at_stage(object: &str, e: Error) -> Error {
    match e {
        Error::Decode { stage, message } => Error::Restore {
            backup: object.into(),
            stage,
            message,
        },
        other => other,
    }
}

/// Adds the client's last error lines to a restore error.
fn with_tail(e: Error, tail: &str) -> Error {
    match e {
        Error::Restore {
            backup,
            stage,
            message,
        } if !tail.is_empty() => Error::Restore {
            backup,
            stage,
            message: format!("{message} (client: {tail})"),
        },
        other => other,
    }
}
