//! Where backups go: an rclone remote (name, `name:path` or connection
//! string) plus a prefix. Parsing here; the I/O methods are in the storage
//! module.

use std::fmt;

use crate::error::{Error, Result, Setting};
use crate::redact;

/// An rclone remote and a path prefix inside it.
///
/// ```
/// let remote = dbbr::Remote::parse("store:bucket/db")?.with_prefix("nightly");
/// assert_eq!(remote.fs_string(), "store:bucket/db/nightly");
/// # Ok::<(), dbbr::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Remote {
    /// `name:` or `:backend,opt=value:`: what rclone opens as a file system.
    root: String,
    /// The remote's name, or the backend of a connection string.
    name: String,
    /// Path inside the root, joined from the remote's path and the prefix.
    base: String,
}

impl Remote {
    /// Parses `store`, `store:path/in/remote` or a connection string such as
    /// `:s3,env_auth,region=eu-west-1:bucket/path`.
    ///
    /// Secret option values of a connection string (`secret_access_key=`,
    /// `pass=`, ...) are added to the process-wide list of secrets that every
    /// dbbr message and rclone log line is masked with. The list is global on
    /// purpose: rclone logs from its own threads, with no way to tell which
    /// remote a line is about, so every secret has to be masked everywhere.
    pub fn parse(spec: &str) -> Result<Remote> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(Error::config(
                Setting::Remote,
                "remote name is empty: name an rclone remote (e.g. `store`) or give a \
                 connection string such as `:s3,env_auth:bucket`",
            ));
        }
        if let Some(rest) = spec.strip_prefix(':') {
            return parse_connection_string(spec, rest);
        }
        let (name, path) = spec.split_once(':').unwrap_or((spec, ""));
        validate_name(name)?;
        Ok(Remote {
            root: format!("{name}:"),
            name: name.to_string(),
            base: clean(path),
        })
    }

    /// Adds `prefix` (e.g. `UPLOAD_PREFIX`) below the remote's own path.
    pub fn with_prefix(mut self, prefix: &str) -> Remote {
        self.base = join(&self.base, prefix);
        self
    }

    /// The remote's name (for a connection string, `:backend`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What rclone opens as the file system: the root and the remote path
    /// with the prefix, e.g. `store:bucket/nightly`. Object paths are
    /// relative to it.
    pub fn fs_string(&self) -> String {
        format!("{}{}", self.root, self.base)
    }

    /// The error for this remote when rclone reports it unconfigured.
    pub(crate) fn not_configured(&self) -> Error {
        let env = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        Error::RemoteNotConfigured {
            name: self.name.clone(),
            env,
        }
    }
}

/// Shows the remote with secrets masked.
impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", redact::redact(&self.root), self.base)
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Remote({self})")
    }
}

/// `:backend,opt=v,opt2="a:b":path` (the leading colon already removed in `rest`).
fn parse_connection_string(spec: &str, rest: &str) -> Result<Remote> {
    let mut quote: Option<char> = None;
    let mut end = None;
    for (i, c) in rest.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ':' => {
                end = Some(i);
                break;
            }
            None => {}
        }
    }
    let bad = |why: &str| {
        Error::config(
            Setting::Remote,
            format!(
                "bad connection string `{}`: {why} (expected `:backend,option=value:path`)",
                redact_connection_options(spec)
            ),
        )
    };
    let end = end.ok_or_else(|| bad("it has no closing `:`"))?;
    let config = &rest[..end];
    let mut parts = split_options(config);
    let backend = parts.next().unwrap_or_default();
    if backend.is_empty()
        || !backend
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(bad("the backend name is missing or invalid"));
    }
    for option in parts {
        let (key, value) = option.split_once('=').unwrap_or((option, ""));
        if key.trim().is_empty() {
            return Err(bad("an option has no name"));
        }
        redact::add_setting(key.trim(), unquote(value));
    }
    Ok(Remote {
        root: format!(":{config}:"),
        name: format!(":{backend}"),
        base: clean(&rest[end + 1..]),
    })
}

/// Splits `backend,a=1,b="x,y"` on commas outside quotes.
fn split_options(config: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in config.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ',' => {
                parts.push(&config[start..i]);
                start = i + 1;
            }
            None => {}
        }
    }
    parts.push(&config[start..]);
    parts.into_iter()
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// The connection string with the value of every sensitive option masked,
/// for messages about a string that did not parse.
fn redact_connection_options(spec: &str) -> String {
    let masked: Vec<String> = split_options(spec)
        .map(|o| match o.split_once('=') {
            Some((k, _)) if redact::is_sensitive_name(k) => format!("{k}={}", redact::MASK),
            _ => redact::mask_url_passwords(o),
        })
        .collect();
    redact::redact(&masked.join(","))
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with(['-', ' '])
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.+@ ".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::config(
            Setting::Remote,
            format!(
                "`{name}` is not a valid rclone remote name: use letters, digits and _-.+@, \
                 or a connection string starting with `:`"
            ),
        ))
    }
}

/// Joins two remote paths with one `/`. A leading `/` of the first non-empty
/// part is kept (absolute paths matter on local and sftp remotes).
fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        return clean(b);
    }
    let b = b.trim_matches('/');
    if b.is_empty() {
        a.to_string()
    } else {
        format!("{}/{b}", a.trim_end_matches('/'))
    }
}

/// A remote path without trailing slashes (a leading one is meaningful).
fn clean(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() && path.starts_with('/') {
        "/".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_name_gets_a_colon() {
        let r = Remote::parse("store").unwrap();
        assert_eq!(r.fs_string(), "store:");
    }

    #[test]
    fn name_with_path_and_prefix() {
        let r = Remote::parse("store:bucket/x/")
            .unwrap()
            .with_prefix("/pre/");
        assert_eq!(r.fs_string(), "store:bucket/x/pre");
    }

    #[test]
    fn connection_string_with_quoted_colon() {
        let r = Remote::parse(":sftp,host=h,key_file='/a:b',user=u:/srv/backups").unwrap();
        assert_eq!(
            r.fs_string(),
            ":sftp,host=h,key_file='/a:b',user=u:/srv/backups"
        );
        assert_eq!(r.name(), ":sftp");
    }

    #[test]
    fn connection_string_secrets_are_masked_in_display() {
        let r =
            Remote::parse(":s3,access_key_id=AKIDEXAMPLE,secret_access_key=s3cr3tvalue:b").unwrap();
        let shown = r.to_string();
        assert!(!shown.contains("s3cr3tvalue"), "{shown}");
        assert!(!shown.contains("AKIDEXAMPLE"), "{shown}");
    }

    #[test]
    fn bad_connection_strings() {
        let err = Remote::parse(":s3,secret_access_key=topsecret99").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("no closing"), "{msg}");
        assert!(!msg.contains("topsecret99"), "{msg}");
        assert!(Remote::parse(":,a=b:").is_err());
        assert!(Remote::parse("").is_err());
        assert!(Remote::parse("bad/name:x").is_err());
        assert!(Remote::parse("-x").is_err());
    }

    #[test]
    fn absolute_prefix_is_kept() {
        let r = Remote::parse("store").unwrap().with_prefix("/srv/backups/");
        assert_eq!(r.fs_string(), "store:/srv/backups");
    }

    #[test]
    fn local_root_path() {
        let r = Remote::parse(":local:/").unwrap();
        assert_eq!(r.fs_string(), ":local:/");
    }
}
