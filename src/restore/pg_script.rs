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
use lexer::{State, Statement};

mod lexer;
mod statements;

/// What the transaction starts with: stop at the first error (also when
/// the client's arguments asked otherwise: a failed statement aborts the
/// transaction anyway, and must stop the restore); and, on PostgreSQL 14
/// and later, have the server check on the client while a statement runs,
/// so that one whose client died with dbbr (an index build) stops within a
/// second rather than at its end. Set for the transaction only (which is
/// the whole restore): nothing is left on a pooled server connection.
const START: &[u8] = b"\\set ON_ERROR_STOP on\nBEGIN;\n\
SELECT pg_catalog.set_config('client_connection_check_interval', '1000', true) \
WHERE pg_catalog.current_setting('server_version_num')::int >= 140000;\n";
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
