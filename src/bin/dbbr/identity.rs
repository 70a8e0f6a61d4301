//! The age identity file that decrypts backups (`ENCRYPT_IDENTITY_FILE`):
//! one flag for `restore`, `verify`, `check` and the backup job's
//! verifications, and how they load it.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use clap::Args;
use dbbr::{Identities, Result};

/// The identity flag every command that reads backups back takes.
#[derive(Debug, Clone, Args)]
pub struct IdentityArgs {
    /// The age identity file or ssh private key that decrypts backups: to
    /// restore or verify them, and for check to try against the recipients.
    #[arg(long, env = "ENCRYPT_IDENTITY_FILE")]
    pub identity_file: Option<PathBuf>,
}

/// Loads the identities, asking for a passphrase only on a terminal.
pub fn identities(path: &Path) -> Result<Identities> {
    if io::stdin().is_terminal() && io::stderr().is_terminal() {
        Identities::from_file_with_passphrase(path, |prompt| {
            rpassword::prompt_password(format!("{prompt}: "))
                .ok()
                .map(Into::into)
        })
    } else {
        Identities::from_file(path)
    }
}
