//! Passwords in the obscured form rclone's configuration wants.

use crate::error::{Error, Result, Setting};

/// Returns `clear` obscured as rclone's configuration expects passwords
/// (`RCLONE_CONFIG_<NAME>_PASS` of SMB, WebDAV, SFTP, FTP, ...): the form
/// `rclone obscure` prints, made by the embedded rclone. `clear` is
/// registered as a secret first, so that no message shows it.
///
/// An empty password is refused ([`Error::Config`]): rclone would take the
/// obscured empty string for "no password".
pub fn obscure(clear: &str) -> Result<String> {
    if clear.is_empty() {
        return Err(Error::config(
            Setting::Storage,
            "the password to obscure is empty: give it on standard input",
        ));
    }
    crate::redact::add_secret(clear);
    let reply = super::rpc("core/obscure", &serde_json::json!({ "clear": clear }))?;
    reply["obscured"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Storage("rclone returned no obscured password".into()))
}
