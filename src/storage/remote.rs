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
    /// Parses `store`, `store:path/in/remote`, a named remote with option
    /// overrides such as `store,region=eu-west-1:bucket/path`, or a
    /// connection string such as `:s3,env_auth,region=eu-west-1:bucket/path`
    /// (rclone's syntax: values may be quoted with `"` or `'`).
    ///
    /// Option values that are secrets (`secret_access_key=`, `pass=`, ...,
    /// and passwords in URLs) are added to the process-wide list of secrets
    /// that every dbbr message and rclone log line is masked with. The list
    /// is global on purpose: rclone logs from its own threads, with no way to
    /// tell which remote a line is about, so every secret has to be masked
    /// everywhere. No error shows the text given: it may hold secrets.
    pub fn parse(spec: &str) -> Result<Remote> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(Error::config(
                Setting::Remote,
                "remote name is empty: name an rclone remote (e.g. `store`) or give a \
                 connection string such as `:s3,env_auth:bucket`",
            ));
        }
        let connection = spec.starts_with(':');
        let body = spec.strip_prefix(':').unwrap_or(spec);
        // Register the secrets first, so that whatever fails below cannot
        // show them (rclone's own messages included).
        let (config, path) = match config_end(body) {
            Some(end) => (&body[..end], &body[end + 1..]),
            None if connection => {
                register_secrets(body);
                return Err(bad_remote(
                    connection,
                    "it has no `:` after the backend and its options",
                ));
            }
            None => (body, ""),
        };
        register_secrets(config);
        if unclosed_quote(config) {
            return Err(bad_remote(
                connection,
                "a quote in its options is not closed",
            ));
        }
        if spec.chars().any(char::is_control) {
            return Err(bad_remote(connection, "it contains a control character"));
        }
        let mut parts = split_options(config);
        let head = parts.next().unwrap_or_default();
        if connection {
            if head.is_empty() || !head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad_remote(
                    connection,
                    "the backend name is missing or invalid",
                ));
            }
        } else {
            validate_name(head)?;
        }
        for (index, option) in parts.enumerate() {
            let key = option.split_once('=').map_or(option, |(k, _)| k).trim();
            if key.is_empty() {
                return Err(bad_remote(
                    connection,
                    &format!("option {} has no name", index + 1),
                ));
            }
            if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad_remote(
                    connection,
                    &format!(
                        "option {} has an invalid name (rclone's option names are letters, \
                         digits and _)",
                        index + 1
                    ),
                ));
            }
        }
        Ok(Remote {
            root: if connection {
                format!(":{config}:")
            } else {
                format!("{config}:")
            },
            name: if connection {
                format!(":{head}")
            } else {
                head.to_string()
            },
            base: clean(path),
        })
    }

    /// Adds `prefix` (e.g. `UPLOAD_PREFIX`, spaces around it ignored) below the
    /// remote's own path.
    pub fn with_prefix(mut self, prefix: &str) -> Remote {
        self.base = join(&self.base, prefix.trim());
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
        write!(f, "{}{}", redact(&self.root), self.base)
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Remote({self})")
    }
}

/// A remote as a builder takes it: text (an rclone remote name,
/// `name:path` or a connection string), parsed when the run starts, or a
/// [`Remote`] parsed already. Every builder's `remote` takes either.
#[derive(Clone, PartialEq, Eq)]
pub enum RemoteSpec {
    /// Text to parse with [`Remote::parse`].
    Text(String),
    /// A remote parsed already.
    Parsed(Remote),
}

impl RemoteSpec {
    /// The remote, with `prefix` below its own path.
    pub(crate) fn resolve(&self, prefix: &str) -> Result<Remote> {
        let remote = match self {
            RemoteSpec::Text(text) => Remote::parse(text)?,
            RemoteSpec::Parsed(remote) => remote.clone(),
        };
        Ok(remote.with_prefix(prefix))
    }
}

/// Shows the remote with its secrets masked; text that does not parse is
/// masked whole.
impl fmt::Debug for RemoteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.resolve("") {
            Ok(remote) => write!(f, "{remote:?}"),
            Err(_) => f.write_str(redact::MASK),
        }
    }
}

impl From<&str> for RemoteSpec {
    fn from(text: &str) -> Self {
        RemoteSpec::Text(text.to_string())
    }
}

impl From<String> for RemoteSpec {
    fn from(text: String) -> Self {
        RemoteSpec::Text(text)
    }
}

impl From<&String> for RemoteSpec {
    fn from(text: &String) -> Self {
        RemoteSpec::Text(text.clone())
    }
}

impl From<Remote> for RemoteSpec {
    fn from(remote: Remote) -> Self {
        RemoteSpec::Parsed(remote)
    }
}

impl From<&Remote> for RemoteSpec {
    fn from(remote: &Remote) -> Self {
        RemoteSpec::Parsed(remote.clone())
    }
}

/// Where the backend (or remote name) and its options end in `body` (the
/// remote without a connection string's leading `:`): the first `:` outside
/// quotes.
fn config_end(body: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in body.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ':' => return Some(i),
            None => {}
        }
    }
    None
}

/// Whether a quote opened in `config` is still open at its end.
fn unclosed_quote(config: &str) -> bool {
    let mut quote: Option<char> = None;
    for c in config.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

/// Registers the secrets among the options of `config` (`name,opt=v,...`):
/// the values of options whose names say they are secret, and passwords in
/// URLs. Run before anything is checked, so that no later message shows them.
fn register_secrets(config: &str) {
    for option in split_options(config).skip(1) {
        if let Some((key, value)) = option.split_once('=') {
            redact::add_setting(key.trim(), unquote(value));
        }
    }
}

/// A remote that does not parse. The message never shows the text given:
/// a connection string (or a named remote's options) may hold secrets.
fn bad_remote(connection: bool, why: &str) -> Error {
    let expected = if connection {
        "`:backend,option=value:path`"
    } else {
        "`name:path` or `name,option=value:path`"
    };
    let what = if connection {
        "connection string"
    } else {
        "remote"
    };
    Error::config(
        Setting::Remote,
        format!("bad {what}: {why} (expected {expected})"),
    )
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

/// Checks a remote's name as rclone's config names go: letters, digits and
/// `_-.+@` and spaces, not starting with `-` or a space. The error names the
/// offending character, never the name.
fn validate_name(name: &str) -> Result<()> {
    let bad = |why: String| {
        Err(Error::config(
            Setting::Remote,
            format!(
                "the remote name {why}: use letters, digits and _-.+@, or a connection string \
                 starting with `:`"
            ),
        ))
    };
    if name.is_empty() {
        return bad("is missing".into());
    }
    if name.starts_with(['-', ' ']) {
        return bad("starts with `-` or a space".into());
    }
    match name
        .chars()
        .find(|c| !(c.is_alphanumeric() || "_-.+@ ".contains(*c)))
    {
        Some(c) => bad(format!("contains `{}`", c.escape_debug())),
        None => Ok(()),
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

/// A remote path without trailing slashes and spaces (a leading slash is
/// meaningful).
fn clean(path: &str) -> String {
    let trimmed = path.trim_end_matches(|c: char| c == '/' || c.is_whitespace());
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
        assert!(msg.contains("no `:` after"), "{msg}");
        assert!(!msg.contains("topsecret99"), "{msg}");
        assert!(Remote::parse(":,a=b:").is_err());
        assert!(Remote::parse("").is_err());
        assert!(Remote::parse("bad/name:x").is_err());
        assert!(Remote::parse("-x").is_err());
        assert!(Remote::parse(":s3,=v:x").is_err());
        assert!(Remote::parse(":s3,a b=v:x").is_err());
        assert!(Remote::parse(":s3,region=x:a\nb").is_err());
        assert!(Remote::parse("a,a=\"").is_err());
        assert!(Remote::parse(":s3,a='x:y").is_err());
    }

    #[test]
    fn named_remote_with_options() {
        let r =
            Remote::parse("store,region=eu-west-1,secret_access_key='named-Sec:ret-51':bucket/x")
                .unwrap()
                .with_prefix("pre");
        assert_eq!(r.name(), "store");
        assert_eq!(
            r.fs_string(),
            "store,region=eu-west-1,secret_access_key='named-Sec:ret-51':bucket/x/pre"
        );
        let shown = r.to_string();
        assert!(
            !shown.contains("named-Sec:ret-51") && shown.starts_with("store,region=eu-west-1,"),
            "{shown}"
        );
        assert_eq!(redact("named-Sec:ret-51"), "***");
        // What the prune after a backup does: the fs string parses back.
        assert_eq!(Remote::parse(&r.fs_string()).unwrap(), r);
        let r = Remote::parse("store,env_auth").unwrap();
        assert_eq!(
            (r.name(), r.fs_string().as_str()),
            ("store", "store,env_auth:")
        );
        match Remote::parse("store,region=x:b").unwrap().not_configured() {
            Error::RemoteNotConfigured { env, .. } => assert_eq!(env, "STORE"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parse_errors_never_show_the_text_given() {
        for spec in [
            "store,secret_access_key=echo-Secret-61,bad key=1:x",
            "bad/name,pass=echo-Secret-62:x",
            ":s3,secret_access_key=echo-Secret-63",
            ":s3 secret=echo-Secret-64:x",
            "st\u{7}ore,token=echo-Secret-65:x",
            ",pass=echo-Secret-66:x",
            "store,=echo-Secret-67:x",
            ":s3,=echo-Secret-68:x",
            "store,key=\"echo-Secret-69\tx\":b",
        ] {
            let msg = Remote::parse(spec).unwrap_err().to_string();
            assert!(!msg.contains("echo-Secret"), "{spec}: {msg}");
            assert!(!msg.contains('\n') && msg.len() < 300, "{spec}: {msg}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any text parses or is refused; a parsed remote's fs string parses
        /// back to the same remote; an error never shows a secret option.
        #[test]
        fn any_remote_parses_back_or_is_refused(
            spec in "[:,=a-z0-9_'\" /.\\-]{0,24}",
            secret in "[a-zA-Z0-9]{12}",
        ) {
            if let Ok(r) = Remote::parse(&spec) {
                let back = Remote::parse(&r.fs_string());
                proptest::prop_assert_eq!(back.ok(), Some(r.clone()));
                let _ = r.with_prefix(&spec).to_string();
            }
            let with_secret = format!("{spec},secret_access_key=sec{secret}:x");
            if let Err(e) = Remote::parse(&with_secret) {
                let text = e.to_string();
                proptest::prop_assert!(!text.contains(&secret), "{}", text);
            }
        }
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
