//! Stopping everything at once when the process is shutting down.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::storage;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Interrupts every run in the process, for a program that is shutting
/// down (e.g. on SIGTERM): every storage call in progress (an upload stalled
/// on a server that stopped answering, rclone waiting to retry) fails at
/// once with [`Error::Interrupted`](crate::Error::Interrupted), and so does
/// every later one, before any I/O; a version probe of a database in
/// progress is stopped. Clean-up still runs, bounded to a few seconds:
/// unfinished uploads are removed.
///
/// It cannot be undone. Call it from a signal handler's thread, set the
/// cancel flag of the runs (see [`Backup::cancel_flag`](crate::Backup::cancel_flag)),
/// and let them unwind.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    storage::interrupt();
}

/// For a program about to exit after [`interrupt`]: waits until the
/// storage calls that the interrupt made the runs give up on have ended and
/// cleaned up after themselves (a claim removed, an upload aborted), for
/// `limit` at most. Whether they all ended; on a server that stopped
/// answering they may not, and what they made is then left to dbbr's
/// leftover clean-up (`Prune::orphans_older_than`).
pub fn finish_cleanup(limit: std::time::Duration) -> bool {
    storage::drain(limit)
}

/// Whether [`interrupt`] was called.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Clears a flag when dropped, also when the thread unwinds from a panic:
/// a watcher thread waiting for the flag then always ends.
pub(crate) struct ClearOnDrop<'a>(pub(crate) &'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}
