//! The age identities (private keys) that decrypt backups, read from
//! The identities that decrypt backups: an age identity file, a passphrase-protected age
//! identity file, or an OpenSSH ed25519/rsa private key.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use age::armor::ArmoredReader;
use age::secrecy::{ExposeSecret, SecretBox, SecretString};
use age::ssh::{self, UnsupportedKey};
use age::{scrypt, x25519, DecryptError, Decryptor};

use crate::error::{Error, Result, Setting};

/// Identity files larger than this are refused (age's own limit).
const FILE_LIMIT: u64 = 16 << 20;

/// How to get a passphrase in, for the error raised when a protected file
/// is given and no passphrase can be asked for.
const NO_PASSPHRASE_HINT: &str =
    "run dbbr where it can ask for the passphrase, or use a copy of the key without one";

/// The forms accepted, for error messages.
const ACCEPTED: &str = "give an age identity file (AGE-SECRET-KEY-1... lines), \
     a passphrase-protected one (`age -p`), or an ssh-ed25519/ssh-rsa private key";

/// One parsed identity, shareable across threads.
type Key = Box<dyn age::Identity + Send + Sync>;

/// Parsed age identities (private keys) that can decrypt backups; never
/// empty.
///
/// Read from one file, in any form the age tools read without plugins: an
/// identity file with `AGE-SECRET-KEY-1...` lines (blank lines and `#`
/// comments ignored), such a file encrypted with a passphrase (`age -p`,
/// armored or not), or an OpenSSH `ssh-ed25519` / `ssh-rsa` private key,
/// with or without a passphrase. A passphrase is asked for once, while
/// loading; the identities are kept decrypted in memory. Debug output shows
/// the file and the number of identities only.
pub struct Identities {
    keys: Vec<Key>,
    source: String,
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("source", &self.source)
            .field("identities", &self.keys.len())
            .finish()
    }
}

impl Identities {
    /// The identities a builder was given, else those read from its
    /// identity file, else none.
    pub(crate) fn given_or_read(
        given: Option<Arc<Identities>>,
        file: Option<&Path>,
    ) -> Result<Option<Arc<Identities>>> {
        Ok(match (given, file) {
            (Some(ids), _) => Some(ids),
            (None, Some(path)) => Some(Arc::new(Identities::from_file(path)?)),
            (None, None) => None,
        })
    }

    /// Reads the identities in `path` (the identity file). A file protected
    /// by a passphrase is an [`Error::Config`] here: use
    /// [`Identities::from_file_with_passphrase`] to supply one.
    pub fn from_file(path: &Path) -> Result<Identities> {
        Self::from_file_with_passphrase(path, |_| None)
    }

    /// Reads the identities in `path` (the identity file). If the file is
    /// protected by a passphrase, `passphrase` is called once with a prompt
    /// naming the file; returning `None` means no passphrase can be had.
    ///
    /// Every failure is an [`Error::Config`] naming the file (and the line,
    /// for identity files) and the fix, never the key material: unreadable
    /// file, no identity in it, a public key instead of a private one, an
    /// unsupported key type, a passphrase that is missing or wrong.
    pub fn from_file_with_passphrase(
        path: &Path,
        mut passphrase: impl FnMut(&str) -> Option<SecretString>,
    ) -> Result<Identities> {
        let name = format!("identity file {}", path.display());
        let bytes = read_limited(path).map_err(|e| {
            Error::config(
                Setting::IdentityFile,
                format!("cannot read {name}: {e}: check the path and its permissions"),
            )
        })?;
        let bytes = bytes.expose_secret();
        if bytes.len() as u64 > FILE_LIMIT {
            return Err(Error::config(Setting::IdentityFile, format!(
                "{name} is larger than 16 MiB: point it at an age identity file or an ssh private key"
            )));
        }
        let mut all = Identities {
            keys: Vec::new(),
            source: name,
        };
        if all.add_passphrase_file(bytes, &mut passphrase)?
            || all.add_ssh_key(bytes, &mut passphrase)?
        {
            return Ok(all);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| {
            Error::config(
                Setting::IdentityFile,
                format!(
                    "{} is neither an age identity file nor an ssh private key: {ACCEPTED}",
                    all.source
                ),
            )
        })?;
        let source = all.source.clone();
        all.add_identity_lines(text, &source)?;
        Ok(all)
    }

    /// Number of identities.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no identity (never true for loaded identities).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Where the identities came from (`identity file <path>`), for
    /// messages.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The identities in the form [`age::Decryptor::decrypt`] takes.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.keys
            .iter()
            .map(|key| key.as_ref() as &dyn age::Identity)
    }

    /// Adds the identities of a passphrase-protected age identity file.
    /// `Ok(false)`: `bytes` is not an age file.
    fn add_passphrase_file(
        &mut self,
        bytes: &[u8],
        passphrase: &mut dyn FnMut(&str) -> Option<SecretString>,
    ) -> Result<bool> {
        let name = &self.source;
        let decryptor = match Decryptor::new_buffered(ArmoredReader::new(bytes)) {
            Ok(decryptor) => decryptor,
            Err(_) if looks_like_age(bytes) => {
                return Err(Error::config(
                    Setting::IdentityFile,
                    format!(
                        "{name} is a damaged age file: restore it from its source, or {ACCEPTED}"
                    ),
                ))
            }
            Err(_) => return Ok(false),
        };
        if !decryptor.is_scrypt() {
            return Err(Error::config(
                Setting::IdentityFile,
                format!(
                    "{name} is an age file encrypted to recipients, not a passphrase-protected \
                 identity file: {ACCEPTED}"
                ),
            ));
        }
        let secret = ask(passphrase, name)?;
        let identity = scrypt::Identity::new(secret);
        let mut stream = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| match e {
                DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed => {
                    wrong_passphrase(name)
                }
                DecryptError::ExcessiveWork { required, .. } => Error::config(
                    Setting::IdentityFile,
                    format!(
                        "{name} needs scrypt work factor {required}, too slow to open here: \
                     re-encrypt it with `age -p` on this kind of machine"
                    ),
                ),
                _ => Error::config(
                    Setting::IdentityFile,
                    format!(
                        "{name} is a damaged age file: restore it from its source, or {ACCEPTED}"
                    ),
                ),
            })?;
        let mut plain = Vec::new();
        let read = (&mut stream).take(FILE_LIMIT + 1).read_to_end(&mut plain);
        let plain = SecretBox::new(Box::new(plain));
        read.map_err(|_| {
            Error::config(
                Setting::IdentityFile,
                format!("{name} is a damaged age file: restore it from its source, or {ACCEPTED}"),
            )
        })?;
        let text = std::str::from_utf8(plain.expose_secret()).map_err(|_| {
            Error::config(
                Setting::IdentityFile,
                format!(
                    "{name} decrypts to something that is not an age identity file: {ACCEPTED}"
                ),
            )
        })?;
        let decrypted = format!("{name} (decrypted)");
        self.add_identity_lines(text, &decrypted)?;
        Ok(true)
    }

    /// Adds an OpenSSH private key. `Ok(false)`: `bytes` is not one.
    fn add_ssh_key(
        &mut self,
        bytes: &[u8],
        passphrase: &mut dyn FnMut(&str) -> Option<SecretString>,
    ) -> Result<bool> {
        let name = &self.source;
        let key = match ssh::Identity::from_buffer(bytes, Some(name.clone())) {
            Ok(ssh::Identity::Unencrypted(key)) => key,
            Ok(ssh::Identity::Encrypted(key)) => {
                let secret = ask(passphrase, name)?;
                key.decrypt(secret).map_err(|_| wrong_passphrase(name))?
            }
            Ok(ssh::Identity::Unsupported(kind)) => {
                return Err(Error::config(
                    Setting::IdentityFile,
                    format!("{name} {}", unsupported(&kind)),
                ))
            }
            Err(_) if bytes.trim_ascii_start().starts_with(b"-----BEGIN") => {
                return Err(Error::config(
                    Setting::IdentityFile,
                    format!(
                        "{name} is not a private key age can read: {ACCEPTED} \
                     (OpenSSH or PEM format)"
                    ),
                ))
            }
            Err(_) => return Ok(false),
        };
        self.keys.push(Box::new(ssh::Identity::Unencrypted(key)));
        Ok(true)
    }

    /// Adds the identities of an age identity file's text; `name` names it
    /// in messages.
    fn add_identity_lines(&mut self, text: &str, name: &str) -> Result<()> {
        let before = self.keys.len();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let place = format!("{name} line {}", index + 1);
            if let Ok(identity) = line.parse::<x25519::Identity>() {
                self.keys.push(Box::new(identity));
            } else if is_public_key(line) {
                return Err(Error::config(
                    Setting::IdentityFile,
                    format!(
                        "{place} is a public key: give the private key it belongs to \
                     (the age identity file, or the ssh key without .pub)"
                    ),
                ));
            } else if line.starts_with("AGE-PLUGIN-") {
                return Err(Error::config(
                    Setting::IdentityFile,
                    format!(
                    "{place} is an age plugin identity, which dbbr does not support: {ACCEPTED}"
                ),
                ));
            } else {
                return Err(Error::config(
                    Setting::IdentityFile,
                    format!("{place} is not an age identity: {ACCEPTED}"),
                ));
            }
        }
        if self.keys.len() == before {
            return Err(Error::config(
                Setting::IdentityFile,
                format!("{name} contains no identity: {ACCEPTED}"),
            ));
        }
        Ok(())
    }
}

/// Reads at most [`FILE_LIMIT`] + 1 bytes, zeroed when dropped.
fn read_limited(path: &Path) -> io::Result<SecretBox<Vec<u8>>> {
    let mut bytes = SecretBox::new(Box::new(Vec::new()));
    std::fs::File::open(path)?
        .take(FILE_LIMIT + 1)
        .read_to_end(age::secrecy::ExposeSecretMut::expose_secret_mut(&mut bytes))?;
    Ok(bytes)
}

/// Asks `passphrase` for the passphrase of `name`.
fn ask(
    passphrase: &mut dyn FnMut(&str) -> Option<SecretString>,
    name: &str,
) -> Result<SecretString> {
    passphrase(&format!("passphrase for {name}")).ok_or_else(|| {
        Error::config(
            Setting::IdentityFile,
            format!("{name} is protected by a passphrase and none was given: {NO_PASSPHRASE_HINT}"),
        )
    })
}

fn wrong_passphrase(name: &str) -> Error {
    Error::config(
        Setting::IdentityFile,
        format!("wrong passphrase for {name}: check the passphrase given for it"),
    )
}

/// Whether `bytes` start like an age file (binary or armored).
fn looks_like_age(bytes: &[u8]) -> bool {
    let start = bytes.trim_ascii_start();
    start.starts_with(b"age-encryption.org/") || start.starts_with(b"-----BEGIN AGE ENCRYPTED FILE")
}

/// Whether an identity file line is a public key (recipient) by mistake.
fn is_public_key(line: &str) -> bool {
    ["age1", "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"]
        .iter()
        .any(|prefix| line.starts_with(prefix))
}

/// Why an ssh key age parsed cannot be used, after the file name.
fn unsupported(kind: &UnsupportedKey) -> String {
    match kind {
        UnsupportedKey::EncryptedPem => "is an encrypted PEM key, which age cannot read: \
             convert it to OpenSSH format with `ssh-keygen -p -f` on it"
            .to_owned(),
        UnsupportedKey::EncryptedSsh(cipher) => format!(
            "is encrypted with {cipher}, which age does not support: \
             re-encrypt it by changing its passphrase with `ssh-keygen -p -f` on it"
        ),
        UnsupportedKey::Hardware(kind) => {
            format!("is a hardware security key ({kind}), which cannot decrypt here: {ACCEPTED}")
        }
        UnsupportedKey::Type(kind) => {
            format!("is a key of type {kind}, which age does not support: {ACCEPTED}")
        }
    }
}

#[cfg(test)]
mod tests;
