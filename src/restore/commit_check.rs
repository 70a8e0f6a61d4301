//! How a PostgreSQL restore learns whether its `COMMIT` took effect when
//! its client died after dbbr sent it.

use std::path::PathBuf;

/// How a restore learns, when its client dies after dbbr sent `COMMIT`,
/// whether the commit took effect (the server may have committed before
/// the client died): psql writes the transaction's id into `file` as the
/// transaction starts, and `committed` asks the server about that id over
/// a connection of its own. The file is removed when this is dropped.
pub(crate) struct CommitCheck {
    pub(super) file: PathBuf,
    committed: Box<dyn Fn(u64) -> Option<bool> + Send>,
}

impl CommitCheck {
    /// A check through a new file of dbbr's own in the temporary
    /// directory; `None` when it cannot be made (the restore then goes on
    /// without: a client that dies after `COMMIT` counts as failed).
    pub(crate) fn new(committed: Box<dyn Fn(u64) -> Option<bool> + Send>) -> Option<CommitCheck> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::env::temp_dir().join(format!("dbbr-xid-{}", crate::run_id::RunId::new()));
        let path = file.to_str()?;
        if path.contains(['\'', '\\', '\n', '\r']) {
            return None;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .ok()?;
        Some(CommitCheck { file, committed })
    }

    /// Whether the transaction committed, as the server says.
    pub(crate) fn committed(&self) -> Option<bool> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let xid = text
            .split_once(XID_LABEL)?
            .1
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        (self.committed)(xid)
    }
}

impl Drop for CommitCheck {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// What precedes the transaction's id in [`CommitCheck`]'s file.
pub(super) const XID_LABEL: &str = "dbbr-xid ";
