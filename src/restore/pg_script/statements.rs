//! Statements as wholes: the transaction statements a dump may hold, left
//! out or refused, and the settings that change how the rest is read.

use std::io::{self, Write};

use super::lexer::{State, Statement};
use super::{PgTransaction, LEFT_OUT};

/// Client encodings in which a byte of a multi-byte character can look like
/// a quote or a backslash: the script could not be split safely.
const UNSAFE_ENCODINGS: &[&str] = &[
    "SJIS",
    "SHIFT_JIS_2004",
    "BIG5",
    "GBK",
    "UHC",
    "GB18030",
    "JOHAB",
];

impl<W: Write> PgTransaction<W> {
    /// A `;` outside parentheses and bodies: the statement ends.
    pub(super) fn end_statement(&mut self) -> io::Result<()> {
        let copy = self.statement.first == b"COPY" && self.statement.from_stdin;
        if self.holding {
            let text = normalise(&self.held);
            self.holding = false;
            match transaction_statement(&text) {
                Some(true) => {
                    self.held.clear();
                    self.out.extend_from_slice(LEFT_OUT);
                }
                Some(false) => {
                    return Err(io::Error::other(format!(
                        "the dump ends its own transaction (`{}`): it cannot be restored in \
                         one transaction",
                        String::from_utf8_lossy(&text)
                    )))
                }
                None => {
                    self.setting(&text)?;
                    self.out.append(&mut self.held);
                }
            }
        }
        self.statement = Statement::default();
        if copy {
            self.state = State::CopyLine;
        }
        Ok(())
    }

    /// Notes the settings that change how the rest must be read.
    fn setting(&mut self, text: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(text);
        let value = |name: &str| {
            text.strip_prefix("SET ")
                .and_then(|t| t.strip_prefix(name))
                .map(|t| t.trim_start_matches([' ', '=']).trim_start_matches("TO "))
                .map(|t| {
                    t.trim()
                        .trim_matches('\'')
                        .trim_end_matches(';')
                        .trim()
                        .trim_matches('\'')
                })
        };
        if let Some(v) = value("STANDARD_CONFORMING_STRINGS") {
            self.standard_strings = !v.eq_ignore_ascii_case("off");
        }
        if let Some(v) = value("CLIENT_ENCODING") {
            if UNSAFE_ENCODINGS.iter().any(|e| v.eq_ignore_ascii_case(e)) {
                return Err(io::Error::other(format!(
                    "the dump is in client encoding {v}, which dbbr cannot split into \
                     statements safely: dump it with -E UTF8"
                )));
            }
        }
        Ok(())
    }
}

/// A statement's text, upper case, comments left out, whitespace
/// collapsed, without its final `;`.
fn normalise(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'-' && text.get(i + 1) == Some(&b'-') {
            while i < text.len() && text[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b == b'/' && text.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < text.len() {
                if text[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(b' ');
            continue;
        }
        if b.is_ascii_whitespace() {
            if !out.ends_with(b" ") {
                out.push(b' ');
            }
        } else {
            out.push(b.to_ascii_uppercase());
        }
        i += 1;
    }
    let trimmed = out.trim_ascii();
    let trimmed = trimmed.strip_suffix(b";").unwrap_or(trimmed).trim_ascii();
    trimmed.to_vec()
}

/// Whether a (normalised) statement begins or ends a transaction:
/// `Some(true)` for one that can be left out inside the restore's own
/// transaction (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END` and their
/// options), `Some(false)` for one that cannot (`ROLLBACK`, `ABORT`,
/// `COMMIT AND CHAIN`, prepared transactions), `None` for anything else.
pub(super) fn transaction_statement(text: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(text);
    let mut words = text.split([' ', ',']).filter(|w| !w.is_empty());
    let first = words.next()?;
    let rest: Vec<&str> = words.collect();
    let options_only = |rest: &[&str]| {
        rest.iter().all(|w| {
            matches!(
                *w,
                "WORK"
                    | "TRANSACTION"
                    | "ISOLATION"
                    | "LEVEL"
                    | "SERIALIZABLE"
                    | "REPEATABLE"
                    | "READ"
                    | "COMMITTED"
                    | "UNCOMMITTED"
                    | "WRITE"
                    | "ONLY"
                    | "NOT"
                    | "DEFERRABLE"
                    | "AND"
                    | "NO"
                    | "CHAIN"
            )
        })
    };
    match first {
        "BEGIN" | "START" | "COMMIT" | "END" => {
            if first == "START" && rest.first() != Some(&"TRANSACTION") {
                return None;
            }
            let chain = rest.contains(&"CHAIN") && !rest.contains(&"NO");
            if matches!(first, "COMMIT" | "END") && rest.contains(&"PREPARED") {
                return Some(false);
            }
            if !options_only(&rest) {
                return None;
            }
            Some(!chain)
        }
        "ROLLBACK" | "ABORT" => {
            // ROLLBACK TO SAVEPOINT stays inside the transaction.
            if rest.first() == Some(&"TO") || rest.get(1) == Some(&"TO") {
                return None;
            }
            Some(false)
        }
        _ => None,
    }
}
