//! Telling the names a pattern renders from other names: a regular
//! expression that matches every object name [`NamePattern`] can render
//! (any database, any time, any dump kind, codec and encryption), so that
//! clean-up can recognise dbbr's own objects and leave every other file
//! alone.

use chrono::format::{Fixed, Item, Numeric, StrftimeItems};
use regex::Regex;

use super::{stem, NamePattern, Piece};

/// A sanitised database name (see `sanitize_database`).
const DATABASE: &str = "[A-Za-z0-9_][A-Za-z0-9_.-]*|-[A-Za-z0-9_.-]*";
/// What any dump kind, codec and encryption add.
const SUFFIX: &str = r"\.(sql|dump|tar)(\.(gz|zst|lz4))?(\.age)?";

impl NamePattern {
    /// A regular expression matching the whole of every object name this
    /// pattern renders.
    pub(crate) fn matcher(&self) -> Regex {
        let source = format!("^(?:{}){SUFFIX}$", self.stem_expression());
        Regex::new(&source).expect("the pattern's expression is built from escaped parts")
    }

    /// A regular expression matching the whole of every set name this
    /// pattern renders (`STEM.set`, the folder of a set's parts).
    pub(crate) fn set_matcher(&self) -> Regex {
        let source = format!(r"^(?:{})\.set$", self.stem_expression());
        Regex::new(&source).expect("the pattern's expression is built from escaped parts")
    }

    /// The expression for a rendered name without its suffix.
    fn stem_expression(&self) -> String {
        let mut source = String::new();
        let last = self.pieces.len().saturating_sub(1);
        for (i, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Db => source.push_str(&format!("(?:{DATABASE})")),
                // The suffix a pattern ends with is replaced when rendering.
                Piece::Literal(text) if i == last => source.push_str(&literal(stem(text))),
                Piece::Literal(text) => source.push_str(&literal(text)),
            }
        }
        source
    }
}

/// The expression for strftime text as rendered and then sanitised: kept
/// characters as they are, others as `-`.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for item in StrftimeItems::new(text) {
        match item {
            Item::Literal(s) | Item::Space(s) => out.push_str(&regex::escape(&sanitise(s))),
            Item::OwnedLiteral(s) | Item::OwnedSpace(s) => {
                out.push_str(&regex::escape(&sanitise(&s)))
            }
            Item::Numeric(Numeric::Timestamp, _) => out.push_str("-?[0-9]+"),
            // Space padding becomes `-`.
            Item::Numeric(_, _) => out.push_str("[0-9-]+"),
            Item::Fixed(fixed) => out.push_str(match fixed {
                Fixed::ShortMonthName
                | Fixed::LongMonthName
                | Fixed::ShortWeekdayName
                | Fixed::LongWeekdayName
                | Fixed::LowerAmPm
                | Fixed::UpperAmPm => "[A-Za-z]+",
                _ => "[A-Za-z0-9_.-]+",
            }),
            Item::Error => out.push_str("[A-Za-z0-9_.-]*"),
        }
    }
    out
}

/// Text as rendering sanitises it (see `sanitize_path`).
fn sanitise(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.');
        let c = if keep { c } else { '-' };
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn check(pattern: &str, databases: &[&str]) -> Regex {
        let p = NamePattern::parse(pattern, 1).unwrap();
        let m = p.matcher();
        let times = [
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap(),
        ];
        for db in databases {
            for t in times {
                for (kind, codec) in [
                    ("sql", "gz"),
                    ("sql", "zst"),
                    ("sql", ""),
                    ("dump", ""),
                    ("tar", "gz"),
                ] {
                    for enc in [false, true] {
                        let name = p.render_as(Some(db), t, kind, codec, enc).unwrap();
                        assert!(m.is_match(&name), "{pattern}: {name} not matched by {m}");
                    }
                }
            }
        }
        m
    }

    #[test]
    fn every_rendered_name_matches_and_foreign_ones_do_not() {
        let dbs = ["app", "my db", "all", "globals", ".hidden", "ünï", "a.b"];
        let m = check("${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz", &dbs);
        for foreign in [
            "schema.sql",
            "photos.tar",
            "dump.sql.gz.age",
            "app-2026.sql.gz",
            "app-2026-01-02T03-04-05Z.sql.gz.manifest.json",
            ".app-2026-01-02T03-04-05Z.sql.gz.0a1b2c3d4e5f.partial",
            "sub/app-2026-01-02T03-04-05Z.sql.gz",
            "app-2026-01-02T03-04-05Z.txt",
        ] {
            assert!(!m.is_match(foreign), "{foreign} matched {m}");
        }
        let m = check("all_%Y-%m-%dT%H-%M-%SZ.sql.gz", &["x"]);
        assert!(!m.is_match("app-2026-01-02T03-04-05Z.sql.gz"));
        check("nightly/%Y/%m/$DB-%d %B %a.sql", &dbs);
        check("$DB/%s%%-%j-%e", &dbs);
        check("%F_%T_${DB}.sql.zst.age", &dbs);
        let m = check("fixed-name", &["x"]);
        assert!(m.is_match("fixed-name.sql.gz") && !m.is_match("other.sql.gz"));
    }

    #[test]
    fn set_names_match_and_others_do_not() {
        let p = NamePattern::parse("${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz", 1).unwrap();
        let m = p.set_matcher();
        let t = Utc.with_ymd_and_hms(2026, 12, 6, 1, 0, 0).unwrap();
        for db in ["app", "my db", "a.b"] {
            let name = p.render_as(Some(db), t, "set", "", false).unwrap();
            assert!(m.is_match(&name), "{name} not matched by {m}");
        }
        for foreign in [
            "app-2026-12-06T01-00-00Z.sql.gz",
            "app-2026-12-06T01-00-00Z.set/0000-pre-data.sql.gz",
            "app-2026-12-06T01-00-00Z.setx",
            "app.set",
        ] {
            assert!(!m.is_match(foreign), "{foreign} matched {m}");
        }
    }
}
