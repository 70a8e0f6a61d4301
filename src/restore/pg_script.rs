//! A PostgreSQL restore in one transaction that dbbr ends: the script goes
//! to `psql` (without `--single-transaction`, which commits when its input
//! ends) after a `BEGIN`, and `COMMIT` is written only once everything
//! upstream has been checked. If dbbr is killed, `psql` sees its input end
//! without `COMMIT`, and the server rolls the open transaction back.
//!
//! A dump can end transactions itself: pg_dump writes `BEGIN;` and
//! `COMMIT;` around large objects. Such top-level statements are left out
//! (the whole restore is one transaction already); a `ROLLBACK` or any
//! other statement that would end the transaction fails the restore. The
//! script is split into statements as psql splits it: quotes, dollar quotes,
//! comments, parentheses, `BEGIN ATOMIC ... END` bodies (psql's own rule)
//! and `COPY ... FROM stdin` data are followed byte by byte, so that a
//! `COMMIT;` inside a procedure's body or a row of data is left alone.

use std::io::{self, Write};

use super::commit_check::{CommitCheck, XID_LABEL};

/// What the transaction starts with: stop at the first error (also when
/// the client's arguments asked otherwise: a failed statement aborts the
/// transaction anyway, and must stop the restore).
const START: &[u8] = b"\\set ON_ERROR_STOP on\nBEGIN;\n";
/// What dbbr writes once everything is checked.
const END: &[u8] = b"\\set ON_ERROR_STOP on\nCOMMIT;\n";
/// What a left-out statement becomes.
const LEFT_OUT: &[u8] =
    b"-- dbbr: a transaction statement of the dump, left out (the restore is one transaction)\n";
/// How much output is gathered before it goes to the client.
const FLUSH_AT: usize = 256 * 1024;
/// A line that may end COPY data: `\.` after a newline.
const COPY_END: &[u8] = b"\n\\.";
/// A statement held back longer than this is not a transaction statement.
const HOLD_LIMIT: usize = 1024;
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

/// The lexer's state between bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// SQL text outside quotes and comments.
    Top,
    /// After `-` in SQL text: a second `-` starts a comment.
    Dash,
    /// After `/` in SQL text: a `*` starts a comment.
    Slash,
    /// In a `--` comment, to the end of the line.
    LineComment,
    /// In a `/* */` comment, nested this deep.
    BlockComment { depth: u32, star: bool, slash: bool },
    /// In a string; `escapes`: an `E'...'` string, where `\` escapes.
    Quoted { escapes: bool, backslash: bool },
    /// After the quote that may end a string (`''` continues it).
    QuoteEnd { escapes: bool },
    /// In a `"identifier"`.
    Identifier,
    /// After the `"` that may end a quoted identifier.
    IdentifierEnd,
    /// After `$` in SQL text, reading what may be a dollar quote's tag.
    DollarTag(Vec<u8>),
    /// In a dollar-quoted string; `matched`: how much of `$tag$` was seen.
    Dollar {
        tag: Vec<u8>,
        matched: Option<usize>,
    },
    /// In a psql meta-command (`\connect ...`), to the end of the line.
    Meta,
    /// After a `COPY ... FROM stdin;`: the rest of its line.
    CopyLine,
    /// In `COPY` data; `at`: how much of a `\.` line has been seen.
    CopyData { at: usize },
}

/// What is known of the current statement (psql's own heuristics).
#[derive(Debug, Clone, Default)]
struct Statement {
    /// Whether anything but whitespace and comments came since the last end.
    started: bool,
    /// The statement's first word, upper case, while being read or known.
    first: Vec<u8>,
    /// How many words the statement has had.
    words: usize,
    /// The first letters of its first words that psql looks at: `c` `o`
    /// `r` `f` `p` (CREATE OR REPLACE FUNCTION / PROCEDURE).
    letters: [u8; 4],
    /// Parenthesis depth.
    parens: u32,
    /// `BEGIN` ... `END` depth of a function body (psql's rule).
    begins: u32,
    /// The previous word and whether `FROM STDIN` was seen (COPY).
    previous: Vec<u8>,
    from_stdin: bool,
    /// The word being read, upper case.
    word: Vec<u8>,
}

/// The writer: psql's input, as one transaction.
pub(crate) struct PgTransaction<W: Write> {
    inner: W,
    check: Option<CommitCheck>,
    state: State,
    statement: Statement,
    /// The current statement's bytes, while it may be one to leave out.
    held: Vec<u8>,
    holding: bool,
    /// Whether `standard_conforming_strings` is on (backslashes are data).
    standard_strings: bool,
    /// Output not yet written to `inner`.
    out: Vec<u8>,
    /// Finds [`COPY_END`].
    copy_end: memchr::memmem::Finder<'static>,
}

impl<W: Write> PgTransaction<W> {
    /// Starts the transaction on `inner`.
    pub(crate) fn begin(mut inner: W) -> io::Result<PgTransaction<W>> {
        inner.write_all(START)?;
        Ok(PgTransaction {
            inner,
            check: None,
            state: State::Top,
            statement: Statement::default(),
            held: Vec::new(),
            holding: false,
            standard_strings: true,
            out: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            copy_end: memchr::memmem::Finder::new(COPY_END),
        })
    }

    /// Starts the transaction on `inner`, with `check` to tell, should the
    /// client die after `COMMIT`, whether it committed.
    pub(crate) fn begin_checked(
        inner: W,
        check: Option<CommitCheck>,
    ) -> io::Result<PgTransaction<W>> {
        let mut tx = PgTransaction::begin(inner)?;
        if let Some(check) = check {
            // The path has no quote, backslash or line break (see new).
            let path = check.file.display();
            write!(
                tx.inner,
                "\\o '{path}'\nSELECT '{XID_LABEL}' || pg_catalog.txid_current();\n\\o\n"
            )?;
            tx.check = Some(check);
        }
        Ok(tx)
    }

    /// The commit check, taken out.
    pub(crate) fn take_check(&mut self) -> Option<CommitCheck> {
        self.check.take()
    }

    /// Writes `COMMIT` and returns the inner writer: call it only when
    /// everything upstream succeeded. Fails if the script ended inside a
    /// statement, a string or `COPY` data (a truncated script).
    pub(crate) fn commit(mut self) -> io::Result<W> {
        self.flush_out()?;
        let complete = matches!(self.state, State::Top | State::LineComment | State::Dash)
            && !self.statement.started;
        if !complete {
            return Err(io::Error::other(
                "the script ends inside a statement: it is incomplete, so it was not committed",
            ));
        }
        self.inner.write_all(END)?;
        Ok(self.inner)
    }

    /// The inner writer.
    pub(crate) fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, for killing a client.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn flush_out(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.inner.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Passes one byte of the statement on (or holds it).
    fn emit(&mut self, byte: u8) {
        if self.holding {
            self.held.push(byte);
            if self.held.len() > HOLD_LIMIT {
                self.release();
            }
        } else {
            self.out.push(byte);
        }
    }

    /// Stops holding: the statement is passed on as it is.
    fn release(&mut self) {
        self.holding = false;
        self.out.append(&mut self.held);
    }

    /// A significant byte of SQL text (not whitespace or a comment);
    /// `word`: it starts a word, so that the statement may be one to hold.
    fn significant(&mut self, word: bool) {
        if !self.statement.started {
            self.statement.started = true;
            self.holding = word;
        }
    }

    /// The end of the word being read, if any.
    fn end_word(&mut self) {
        if self.statement.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.statement.word);
        let st = &mut self.statement;
        if st.words == 0 {
            st.first = word.clone();
            if !matches!(
                word.as_slice(),
                b"BEGIN" | b"START" | b"COMMIT" | b"END" | b"ROLLBACK" | b"ABORT" | b"SET"
            ) {
                self.release();
            }
        }
        let st = &mut self.statement;
        // psql's rule (psqlscan.l): in CREATE [OR REPLACE] FUNCTION or
        // PROCEDURE, outside parentheses, BEGIN ... END (and CASE ... END
        // inside it) nest, and a `;` inside them ends no statement.
        if st.words < st.letters.len()
            && matches!(
                word.as_slice(),
                b"CREATE" | b"FUNCTION" | b"PROCEDURE" | b"OR" | b"REPLACE"
            )
        {
            st.letters[st.words] = word[0].to_ascii_lowercase();
        }
        st.words += 1;
        let l = st.letters;
        let routine = l[0] == b'c'
            && (l[1] == b'f'
                || l[1] == b'p'
                || (l[1] == b'o' && l[2] == b'r' && (l[3] == b'f' || l[3] == b'p')));
        if routine && st.parens == 0 {
            match word.as_slice() {
                b"BEGIN" => st.begins += 1,
                b"CASE" if st.begins >= 1 => st.begins += 1,
                b"END" if st.begins > 0 => st.begins -= 1,
                _ => {}
            }
        }
        if st.parens == 0 && st.previous == b"FROM" && word == b"STDIN" {
            st.from_stdin = true;
        }
        st.previous = word;
    }

    /// A `;` outside parentheses and bodies: the statement ends.
    fn end_statement(&mut self) -> io::Result<()> {
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

    /// Runs the lexer over one byte.
    fn step(&mut self, byte: u8) -> io::Result<()> {
        match std::mem::replace(&mut self.state, State::Top) {
            State::Top => self.top(byte)?,
            State::Dash => {
                if byte == b'-' {
                    self.emit(byte);
                    self.state = State::LineComment;
                } else {
                    self.significant_dash();
                    self.top(byte)?;
                }
            }
            State::Slash => {
                if byte == b'*' {
                    self.emit(byte);
                    self.state = State::BlockComment {
                        depth: 1,
                        star: false,
                        slash: false,
                    };
                } else {
                    self.significant(false);
                    self.end_word();
                    self.top(byte)?;
                }
            }
            State::LineComment => {
                self.emit(byte);
                if byte != b'\n' {
                    self.state = State::LineComment;
                }
            }
            State::BlockComment { depth, star, slash } => {
                self.emit(byte);
                self.state = match byte {
                    b'/' if star => match depth - 1 {
                        0 => State::Top,
                        depth => State::BlockComment {
                            depth,
                            star: false,
                            slash: false,
                        },
                    },
                    b'*' if slash => State::BlockComment {
                        depth: depth + 1,
                        star: false,
                        slash: false,
                    },
                    _ => State::BlockComment {
                        depth,
                        star: byte == b'*',
                        slash: byte == b'/',
                    },
                };
            }
            State::Quoted { escapes, backslash } => {
                self.emit(byte);
                self.state = match byte {
                    _ if backslash => State::Quoted {
                        escapes,
                        backslash: false,
                    },
                    b'\\' if escapes => State::Quoted {
                        escapes,
                        backslash: true,
                    },
                    b'\'' => State::QuoteEnd { escapes },
                    _ => State::Quoted {
                        escapes,
                        backslash: false,
                    },
                };
            }
            State::QuoteEnd { escapes } => {
                if byte == b'\'' {
                    self.emit(byte);
                    self.state = State::Quoted {
                        escapes,
                        backslash: false,
                    };
                } else {
                    self.top(byte)?;
                }
            }
            State::Identifier => {
                self.emit(byte);
                self.state = if byte == b'"' {
                    State::IdentifierEnd
                } else {
                    State::Identifier
                };
            }
            State::IdentifierEnd => {
                if byte == b'"' {
                    self.emit(byte);
                    self.state = State::Identifier;
                } else {
                    self.top(byte)?;
                }
            }
            State::DollarTag(mut tag) => {
                if byte == b'$' {
                    self.emit(byte);
                    self.state = State::Dollar { tag, matched: None };
                } else if is_word_byte(byte) && !(tag.is_empty() && byte.is_ascii_digit()) {
                    self.emit(byte);
                    tag.push(byte);
                    self.state = State::DollarTag(tag);
                } else {
                    // Not a dollar quote (a parameter such as $1, or `$` in
                    // an operator): plain text.
                    self.top(byte)?;
                }
            }
            State::Dollar { tag, matched } => {
                self.emit(byte);
                self.state = match (matched, byte) {
                    (Some(n), b'$') if n == tag.len() => State::Top,
                    (Some(n), b) if n < tag.len() && tag[n] == b => State::Dollar {
                        tag,
                        matched: Some(n + 1),
                    },
                    (_, b'$') => State::Dollar {
                        tag,
                        matched: Some(0),
                    },
                    _ => State::Dollar { tag, matched: None },
                };
            }
            State::Meta => {
                self.emit(byte);
                if byte != b'\n' {
                    self.state = State::Meta;
                }
            }
            State::CopyLine => {
                self.out.push(byte);
                self.state = if byte == b'\n' {
                    State::CopyData { at: 0 }
                } else {
                    State::CopyLine
                };
            }
            State::CopyData { at } => {
                self.out.push(byte);
                self.state = match (at, byte) {
                    (0, b'\\') => State::CopyData { at: 1 },
                    (1, b'.') => State::CopyData { at: 2 },
                    (2, b'\r') => State::CopyData { at: 3 },
                    (2 | 3, b'\n') => State::Top,
                    (_, b'\n') => State::CopyData { at: 0 },
                    _ => State::CopyData { at: usize::MAX },
                };
            }
        }
        Ok(())
    }

    /// A `-` that did not start a comment is significant text.
    fn significant_dash(&mut self) {
        self.significant(false);
        self.end_word();
    }

    /// One byte of SQL text outside quotes and comments.
    fn top(&mut self, byte: u8) -> io::Result<()> {
        if is_word_byte(byte) && !(self.statement.word.is_empty() && byte == b'$') {
            if self.statement.word.is_empty() && byte.is_ascii_digit() {
                // A number: no word.
                self.significant(false);
                self.emit(byte);
                return Ok(());
            }
            self.significant(true);
            self.emit(byte);
            if self.statement.word.len() < 64 {
                self.statement.word.push(byte.to_ascii_uppercase());
            }
            return Ok(());
        }
        let after_e = self.statement.word == b"E";
        self.end_word();
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.emit(byte),
            b'-' => {
                // A comment is not part of the statement's start.
                if !self.statement.started {
                    self.out.push(byte);
                } else {
                    self.emit(byte);
                }
                self.state = State::Dash;
            }
            b'/' => {
                if !self.statement.started {
                    self.out.push(byte);
                } else {
                    self.emit(byte);
                }
                self.state = State::Slash;
            }
            b'\'' => {
                self.significant(false);
                self.emit(byte);
                self.state = State::Quoted {
                    escapes: after_e || !self.standard_strings,
                    backslash: false,
                };
            }
            b'"' => {
                self.significant(false);
                self.emit(byte);
                self.state = State::Identifier;
            }
            b'$' => {
                self.significant(false);
                self.emit(byte);
                self.state = State::DollarTag(Vec::new());
            }
            b'\\' => {
                // A psql meta-command: to the end of the line.
                if !self.statement.started {
                    self.out.push(byte);
                } else {
                    self.emit(byte);
                }
                self.state = State::Meta;
            }
            b'(' => {
                self.significant(false);
                self.emit(byte);
                self.statement.parens += 1;
            }
            b')' => {
                self.significant(false);
                self.emit(byte);
                self.statement.parens = self.statement.parens.saturating_sub(1);
            }
            b';' => {
                self.significant(false);
                self.emit(byte);
                if self.statement.parens == 0 && self.statement.begins == 0 {
                    self.end_statement()?;
                }
            }
            _ => {
                self.significant(false);
                self.emit(byte);
            }
        }
        Ok(())
    }
}

/// Whether psql reads `byte` as part of a word (identifiers and keywords;
/// bytes of multi-byte characters count).
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
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
fn transaction_statement(text: &[u8]) -> Option<bool> {
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

impl<W: Write> Write for PgTransaction<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some((&byte, tail)) = rest.split_first() {
            // Inside a line of COPY data: on to the next line that may end
            // the data (`\.`), or the last whole line, at once.
            if self.state == (State::CopyData { at: usize::MAX }) {
                let through = match self.copy_end.find(rest) {
                    Some(end) => Some(end),
                    None => memchr::memrchr(b'\n', rest),
                };
                match through {
                    Some(end) => {
                        self.out.extend_from_slice(&rest[..=end]);
                        rest = &rest[end + 1..];
                        self.state = State::CopyData { at: 0 };
                    }
                    None => {
                        self.out.extend_from_slice(rest);
                        rest = &[];
                    }
                }
                continue;
            }
            self.step(byte)?;
            rest = tail;
        }
        if self.out.len() >= FLUSH_AT {
            self.flush_out()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_out()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
