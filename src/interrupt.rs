//! The process-wide interrupt flag: set once when the process is shutting
//! down, read by every loop and wait.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Sets the process-wide interrupt flag (see [`crate::interrupt`]).
pub(crate) fn set() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether the process was interrupted (see [`crate::interrupt`]).
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
