//! The lexer: psql's own way of splitting a script into statements, byte
//! by byte (quotes, dollar quotes, comments, parentheses, `BEGIN ATOMIC`
//! bodies, `COPY ... FROM stdin` data).

use std::io::{self, Write};

use super::PgTransaction;

/// The lexer's state between bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
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
pub(super) struct Statement {
    /// Whether anything but whitespace and comments came since the last end.
    pub(super) started: bool,
    /// The statement's first word, upper case, while being read or known.
    pub(super) first: Vec<u8>,
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
    pub(super) from_stdin: bool,
    /// The word being read, upper case.
    word: Vec<u8>,
}

impl<W: Write> PgTransaction<W> {
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

    /// Runs the lexer over one byte.
    pub(super) fn step(&mut self, byte: u8) -> io::Result<()> {
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

    /// A byte that may start a comment or a meta-command: passed on, and
    /// not the start of a statement that may be one to hold.
    fn emit_unstarted(&mut self, byte: u8) {
        if self.statement.started {
            self.emit(byte);
        } else {
            self.out.push(byte);
        }
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
                self.emit_unstarted(byte);
                self.state = State::Dash;
            }
            b'/' => {
                self.emit_unstarted(byte);
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
                self.emit_unstarted(byte);
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
