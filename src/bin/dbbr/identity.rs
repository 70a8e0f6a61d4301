//! The age identity file that decrypts backups (`ENCRYPT_IDENTITY_FILE`),
//! as `restore`, `verify`, `check` and the backup job's verifications load
//! it. Each declares the flag itself: its help says what it decrypts there.

use std::io::{self, IsTerminal};
use std::path::Path;

use dbbr::{Identities, Result};

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
