//! Object names: the file name pattern, a strftime pattern with `$DB`/`${DB}`
//! placeholders that renders to a safe, relative object path ending in
//! `.sql.<codec>` (and `.age` when encrypted).
//!
//! Rendering order: the literal pieces between `$DB` tokens are formatted
//! with strftime, the sanitised database name is inserted, the whole name is
//! sanitised, the suffix is fixed up and the result is checked.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, TimeZone, Utc};

use crate::error::{Error, Result, Setting};

mod matcher;

/// What dbbr adds to a backup's file name for the names it derives: the
/// longer of the manifest's and the verification record's suffix, and the
/// hidden temporary name of an upload (`.NAME.<12 hex>.partial`).
const DERIVED: usize = 14 + 22;
/// The longest file name (last path segment) of a backup.
const MAX_LEAF: usize = 255 - DERIVED;
/// The longest path of a backup below the prefix.
const MAX_PATH: usize = 1024 - DERIVED;

/// Compression extensions a pattern may already end with (after `.sql.`);
/// they are replaced by the codec actually in use.
const KNOWN_CODECS: &[&str] = &["gz", "zst", "lz4"];

/// One piece of a pattern: strftime text or a database placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text formatted with strftime.
    Literal(String),
    /// `$DB` or `${DB}`.
    Db,
}

/// A validated object name pattern.
///
/// `$DB` and `${DB}` are placeholders for the database name (`all` in
/// whole-server mode); `$DB` is matched greedily, so `$DB_x` is the name
/// followed by `_x`. Any other `$` is a literal and is sanitised to `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    text: String,
    pieces: Vec<Piece>,
}

impl NamePattern {
    /// Parses and validates `pattern`. `databases` is how many databases this
    /// run dumps into separate files (0 or 1 for whole-server mode is fine).
    ///
    /// Rejects invalid strftime directives, a pattern without `$DB` when
    /// `databases > 1`, and any pattern whose trial render (database `db`,
    /// codec `gz`) is not a safe relative path.
    pub fn parse(pattern: &str, databases: usize) -> Result<NamePattern> {
        let parsed = NamePattern {
            text: pattern.to_owned(),
            pieces: split(pattern),
        };
        for piece in &parsed.pieces {
            if let Piece::Literal(text) = piece {
                if StrftimeItems::new(text).any(|item| item == Item::Error) {
                    return Err(
                        parsed.error("has an invalid strftime directive: see `man strftime`")
                    );
                }
            }
        }
        if databases > 1 && !parsed.pieces.contains(&Piece::Db) {
            return Err(Error::config(
                Setting::FileName,
                format!(
                    "the file name pattern must contain $DB when more than one database is \
                     backed up ({databases} are)"
                ),
            ));
        }
        let sample = Utc.with_ymd_and_hms(2000, 1, 2, 3, 4, 5).unwrap();
        parsed.render(Some("db"), sample, "gz", false)?;
        Ok(parsed)
    }

    /// The default: `${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz` per database,
    /// `all_%Y-%m-%dT%H-%M-%SZ.sql.gz` when `all` is true.
    pub fn default_for(all: bool) -> NamePattern {
        let text = if all {
            "all_%Y-%m-%dT%H-%M-%SZ.sql.gz"
        } else {
            "${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz"
        };
        NamePattern {
            text: text.to_owned(),
            pieces: split(text),
        }
    }

    /// Renders the object path for one database (None in whole-server mode)
    /// at `time`. `codec_ext` is the compression extension without dot, e.g.
    /// "gz" (an empty one means no compression: the suffix is just `.sql`).
    /// `encrypted` adds ".age".
    ///
    /// Suffix rules: a name ending in `.sql.<codec_ext>` is kept; one ending in
    /// `.sql.<other known codec>` (gz, zst, lz4) gets that extension replaced;
    /// one ending in `.sql` gets `.<codec_ext>` added; anything else gets
    /// `.sql.<codec_ext>` appended. A trailing `.age` in the pattern is
    /// removed first and put back only when `encrypted`, so it always stays
    /// last.
    pub fn render(
        &self,
        database: Option<&str>,
        time: DateTime<Utc>,
        codec_ext: &str,
        encrypted: bool,
    ) -> Result<String> {
        self.render_as(database, time, "sql", codec_ext, encrypted)
    }

    /// [`render`](NamePattern::render) for a dump that is not SQL text:
    /// `kind` replaces `sql` in the suffix (`dump` for a PostgreSQL custom
    /// archive, `tar` for a tar archive), e.g. `app-....dump.age`.
    pub fn render_as(
        &self,
        database: Option<&str>,
        time: DateTime<Utc>,
        kind: &str,
        codec_ext: &str,
        encrypted: bool,
    ) -> Result<String> {
        if !codec_ext.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::config(
                Setting::Compression,
                format!(
                    "compression extension `{}` must be ASCII letters and digits",
                    codec_ext.escape_debug()
                ),
            ));
        }
        let db = database.map_or_else(|| "all".to_owned(), sanitize_database);
        let mut raw = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Db => raw.push_str(&db),
                Piece::Literal(text) => {
                    let items: Vec<Item> = StrftimeItems::new(text).collect();
                    if items.contains(&Item::Error)
                        || write!(raw, "{}", time.format_with_items(items.iter())).is_err()
                    {
                        return Err(
                            self.error("has an invalid strftime directive: see `man strftime`")
                        );
                    }
                }
            }
        }
        let clean = sanitize_path(&raw);
        let stem = stem(&clean);
        self.check(stem)?;
        let mut name = stem.to_owned();
        name.push('.');
        name.push_str(kind);
        if !codec_ext.is_empty() {
            name.push('.');
            name.push_str(codec_ext);
        }
        if encrypted {
            name.push_str(".age");
        }
        self.check_length(&name)?;
        Ok(name)
    }

    /// Rejects a name too long for storage once the longest name dbbr
    /// derives from it is added: most file systems (and so local disks,
    /// SFTP, SMB) take 255 bytes per path segment, S3 1024 per key.
    fn check_length(&self, name: &str) -> Result<()> {
        let leaf = name.rsplit('/').next().unwrap_or(name);
        if leaf.len() > MAX_LEAF {
            return Err(self.error(&format!(
                "renders a file name of {} bytes (`{}`): at most {MAX_LEAF} fit storage with \
                 the manifest's and the upload's temporary names; shorten the pattern",
                leaf.len(),
                shown(leaf)
            )));
        }
        if name.len() > MAX_PATH {
            return Err(self.error(&format!(
                "renders a path of {} bytes: at most {MAX_PATH} fit S3 keys with the names \
                 derived from it; shorten the pattern",
                name.len()
            )));
        }
        Ok(())
    }

    /// The pattern text as given.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Rejects a stem (the name before its `.sql...` suffix) that is not a
    /// safe relative path.
    fn check(&self, stem: &str) -> Result<()> {
        if stem.is_empty() {
            return Err(self.error("renders an empty name: put text or $DB before the suffix"));
        }
        if stem.starts_with('/') {
            return Err(
                self.error("renders an absolute path: use a relative path inside the prefix")
            );
        }
        if stem.ends_with('/') {
            return Err(
                self.error("renders a path ending in `/`: give the file a name after the last `/`")
            );
        }
        for segment in stem.split('/') {
            if segment == "." || segment == ".." {
                return Err(self.error(&format!(
                    "renders a path with a `{segment}` segment: use a relative path inside the prefix"
                )));
            }
        }
        let leaf = stem.rsplit('/').next().unwrap_or(stem);
        if !leaf.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(self.error(&format!(
                "renders a file name without a letter or digit (`{}`): only ASCII letters, \
                 digits and _-. are kept in names; put some in the pattern",
                shown(leaf)
            )));
        }
        Ok(())
    }

    fn error(&self, what: &str) -> Error {
        Error::config(
            Setting::FileName,
            format!("file name pattern `{}` {what}", shown(&self.text)),
        )
    }
}

/// `text` for a message: on one line, at most 80 characters.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push_str("...");
    }
    out.escape_debug().to_string()
}

/// Splits `pattern` at `${DB}` and `$DB` tokens.
fn split(pattern: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        let token = ["${DB}", "$DB"].into_iter().find(|t| rest.starts_with(t));
        if let Some(token) = token {
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Db);
            rest = &rest[token.len()..];
        } else {
            literal.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

/// Makes a database name safe to insert: only ASCII letters, digits, `_`,
/// `-` and `.` survive, and leading dots become `-` so the name can never be
/// or start a `.`/`..` segment.
fn sanitize_database(name: &str) -> String {
    let mut leading = true;
    name.chars()
        .map(|c| {
            let keep = c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
            let c = if keep { c } else { '-' };
            if c == '.' && leading {
                return '-';
            }
            leading = false;
            c
        })
        .collect()
}

/// Replaces every character except ASCII letters, digits, `_`, `-`, `/` and
/// `.` with `-` and collapses repeated slashes.
fn sanitize_path(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.');
        let c = if keep { c } else { '-' };
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// The name without a trailing `.age`, `.sql.<known codec>` or `.sql`.
fn stem(name: &str) -> &str {
    let name = name.strip_suffix(".age").unwrap_or(name);
    for codec in KNOWN_CODECS {
        if let Some(stem) = name
            .strip_suffix(codec)
            .and_then(|s| s.strip_suffix(".sql."))
        {
            return stem;
        }
    }
    name.strip_suffix(".sql").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 5, 6, 7).unwrap()
    }

    fn r(pattern: &str, db: Option<&str>) -> String {
        NamePattern::parse(pattern, 1)
            .unwrap()
            .render(db, t(), "gz", false)
            .unwrap()
    }

    fn config_err(pattern: &str, databases: usize) -> String {
        match NamePattern::parse(pattern, databases) {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected config error for {pattern:?}, got {other:?}"),
        }
    }

    #[test]
    fn names_too_long_for_storage_are_rejected() {
        let render = |pattern: &str| {
            NamePattern::parse(pattern, 1)
                .and_then(|p| p.render_as(Some("app"), t(), "sql", "gz", true))
        };
        // `.sql.gz.age` is 11 bytes.
        let fits = "a".repeat(MAX_LEAF - 11);
        assert_eq!(render(&fits).unwrap().len(), MAX_LEAF);
        let long = "a".repeat(MAX_LEAF - 10);
        match render(&long) {
            Err(Error::Config { setting, message }) => {
                assert_eq!(setting, Setting::FileName);
                assert!(message.contains("220 bytes"), "{message}");
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
        let deep = format!("{}/x", "d/".repeat(MAX_PATH / 2));
        assert!(render(&deep).is_err());
    }

    #[test]
    fn archives_get_their_own_suffix() {
        let p = NamePattern::parse("${DB}-%Y.sql.gz", 1).unwrap();
        assert_eq!(
            p.render_as(Some("app"), t(), "dump", "", true).unwrap(),
            "app-2026.dump.age"
        );
        assert_eq!(
            p.render_as(Some("app"), t(), "tar", "gz", false).unwrap(),
            "app-2026.tar.gz"
        );
    }

    #[test]
    fn defaults() {
        let per_db = NamePattern::default_for(false);
        assert_eq!(per_db.as_str(), "${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz");
        assert_eq!(
            per_db.render(Some("app"), t(), "gz", false).unwrap(),
            "app-2026-11-30T05-06-07Z.sql.gz"
        );
        let all = NamePattern::default_for(true);
        assert_eq!(
            all.render(None, t(), "gz", false).unwrap(),
            "all_2026-11-30T05-06-07Z.sql.gz"
        );
        assert_eq!(NamePattern::parse(per_db.as_str(), 3).unwrap(), per_db);
    }

    #[test]
    fn strftime_directives() {
        assert_eq!(r("%j_%s", None), "334_1796015167.sql.gz");
        assert_eq!(r("%F_%T", None), "2026-11-30_05-06-07.sql.gz");
        assert_eq!(r("100%%", None), "100-.sql.gz");
    }

    #[test]
    fn invalid_directive() {
        assert_eq!(
            config_err("x%Q", 1),
            "file name pattern `x%Q` has an invalid strftime directive: see `man strftime`"
        );
        config_err("x%", 1);
        config_err("%$DB", 1);
    }

    #[test]
    fn db_forms_and_stray_dollar() {
        assert_eq!(r("${DB}_x", Some("app")), "app_x.sql.gz");
        assert_eq!(r("$DB_x", Some("app")), "app_x.sql.gz");
        assert_eq!(r("a$b$", Some("app")), "a-b-.sql.gz");
        assert_eq!(r("${D}B$", Some("app")), "--D-B-.sql.gz");
        assert_eq!(r("$DB", None), "all.sql.gz");
    }

    #[test]
    fn database_name_cannot_inject() {
        let p = NamePattern::parse("backups/${DB}/%Y", 2).unwrap();
        assert_eq!(
            p.render(Some("%Y/../etc"), t(), "gz", false).unwrap(),
            "backups/-Y-..-etc/2026.sql.gz"
        );
        assert_eq!(
            p.render(Some(".."), t(), "gz", false).unwrap(),
            "backups/--/2026.sql.gz"
        );
        assert_eq!(
            p.render(Some("."), t(), "gz", false).unwrap(),
            "backups/-/2026.sql.gz"
        );
        assert_eq!(r("$DB", Some(".hidden.db")), "-hidden.db.sql.gz");
    }

    #[test]
    fn whole_name_sanitised() {
        assert_eq!(r("héllo wörld:%H", None), "h-llo-w-rld-05.sql.gz");
        assert_eq!(r("$DB", Some("Ünï")), "-n-.sql.gz");
        assert_eq!(r("a//b///c", None), "a/b/c.sql.gz");
    }

    #[test]
    fn subfolders() {
        assert_eq!(
            r("daily/%Y/%m/${DB}_%d", Some("app")),
            "daily/2026/11/app_30.sql.gz"
        );
    }

    #[test]
    fn suffixes() {
        assert_eq!(r("x.sql", None), "x.sql.gz");
        assert_eq!(r("x.sql.gz", None), "x.sql.gz");
        assert_eq!(r("x", None), "x.sql.gz");
        assert_eq!(r("x.gz", None), "x.gz.sql.gz");
        let p = NamePattern::parse("x.sql.gz", 1).unwrap();
        assert_eq!(p.render(None, t(), "zst", false).unwrap(), "x.sql.zst");
        let p = NamePattern::parse("x.sql", 1).unwrap();
        assert_eq!(p.render(None, t(), "lz4", false).unwrap(), "x.sql.lz4");
        assert_eq!(p.render(None, t(), "", false).unwrap(), "x.sql");
        assert!(matches!(
            p.render(None, t(), "g/z", false),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn encrypted_suffix() {
        let p = NamePattern::parse("x", 1).unwrap();
        assert_eq!(p.render(None, t(), "gz", true).unwrap(), "x.sql.gz.age");
        let p = NamePattern::parse("x.sql.gz.age", 1).unwrap();
        assert_eq!(p.render(None, t(), "gz", true).unwrap(), "x.sql.gz.age");
        assert_eq!(p.render(None, t(), "gz", false).unwrap(), "x.sql.gz");
        assert_eq!(p.render(None, t(), "zst", true).unwrap(), "x.sql.zst.age");
    }

    #[test]
    fn rejected_paths() {
        assert_eq!(
            config_err("../x", 1),
            "file name pattern `../x` renders a path with a `..` segment: \
             use a relative path inside the prefix"
        );
        assert!(config_err("a/./x", 1).contains("`.` segment"));
        assert!(config_err("a/..", 1).contains("`..` segment"));
        assert!(config_err("/x", 1).contains("absolute"));
        assert!(config_err("//x", 1).contains("absolute"));
        assert!(config_err("x/", 1).contains("ending in `/`"));
        assert!(config_err("x/.sql.gz", 1).contains("ending in `/`"));
        assert!(config_err("", 1).contains("empty"));
        assert!(config_err(".sql.gz", 1).contains("empty"));
        assert!(config_err(".sql.gz.age", 1).contains("empty"));
        assert!(config_err("a\nb/../c", 1).starts_with("file name pattern `a\\nb/../c`"));
        assert!(config_err("\u{202e}\u{200b}", 1).contains("without a letter or digit"));
        assert!(config_err("x/---", 1).contains("without a letter or digit"));
        assert!(config_err(&"%".repeat(5000), 1).len() < 400);
    }

    #[test]
    fn render_revalidates() {
        let p = NamePattern::parse("${DB}", 1).unwrap();
        assert!(matches!(
            p.render(Some(""), t(), "gz", false),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn missing_db_with_many_databases() {
        assert_eq!(
            config_err("backup-%F", 2),
            "the file name pattern must contain $DB when more than one database is backed up \
             (2 are)"
        );
        assert!(NamePattern::parse("backup-%F", 1).is_ok());
        assert!(NamePattern::parse("backup-%F", 0).is_ok());
        assert!(NamePattern::parse("$DB-%F", 2).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any pattern, database name and time: refused with a message on
        /// one line, or a safe relative object path of the expected form.
        #[test]
        fn any_pattern_renders_a_safe_name_or_is_refused(
            pattern in "([%$]|\\$\\{DB\\}|\\$DB|[a-zA-Z./ _-]|\\PC){0,24}",
            database in "\\PC{0,12}",
            seconds in -62_000_000_000i64..250_000_000_000,
            encrypted in proptest::bool::ANY,
            databases in 0usize..3,
        ) {
            let time = DateTime::from_timestamp(seconds, 0).unwrap();
            let rendered = NamePattern::parse(&pattern, databases)
                .and_then(|p| p.render(Some(&database), time, "zst", encrypted));
            match rendered {
                Ok(name) => {
                    let suffix = if encrypted { ".sql.zst.age" } else { ".sql.zst" };
                    proptest::prop_assert!(name.ends_with(suffix), "{}", name);
                    proptest::prop_assert!(!name.starts_with('/') && !name.contains("//"), "{}", name);
                    proptest::prop_assert!(
                        name.split('/').all(|s| s != "." && s != ".." && !s.is_empty()),
                        "{}", name
                    );
                    proptest::prop_assert!(
                        name.chars().all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c)),
                        "{}", name
                    );
                    proptest::prop_assert!(name.len() <= MAX_PATH, "{}", name);
                }
                Err(e) => {
                    let text = e.to_string();
                    proptest::prop_assert!(!text.contains('\n'), "{}", text);
                    proptest::prop_assert_eq!(e.setting(), Some(Setting::FileName));
                }
            }
        }
    }
}
