//! Restoring a MariaDB dump of one database under another name: the dump
//! selects its database itself (`CREATE DATABASE ... `db``, `USE `db``), so
//! those statement lines are left out and the client's `--database` applies.
//! mariadb-dump writes every statement on its own line and escapes newlines
//! inside strings, so a line that starts like these is one of them.

use std::io::{self, Write};

/// Line starts that select a database.
const DROPPED: &[&[u8]] = &[b"CREATE DATABASE ", b"USE `"];
/// Bytes needed to tell a dropped line from another.
const PROBE: usize = 16;

/// A writer that leaves out the lines of `inner`'s input that select a
/// database.
pub(crate) struct Retarget<W> {
    inner: W,
    /// The start of the current line, while it is undecided.
    head: Vec<u8>,
    line: Line,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// At the start of a line, deciding.
    Start,
    /// Inside a line that is passed on.
    Keep,
    /// Inside a line that is left out.
    Drop,
}

impl<W: Write> Retarget<W> {
    pub(crate) fn new(inner: W) -> Retarget<W> {
        Retarget {
            inner,
            head: Vec::with_capacity(PROBE),
            line: Line::Start,
        }
    }

    /// The inner writer.
    pub(crate) fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, for killing a client.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Writes what is still undecided and returns the inner writer.
    pub(crate) fn into_inner(mut self) -> io::Result<W> {
        if self.line == Line::Start && !self.head.is_empty() && !drops(&self.head) {
            self.inner.write_all(&self.head)?;
        }
        Ok(self.inner)
    }
}

/// Whether a line starting with `head` is left out.
fn drops(head: &[u8]) -> bool {
    DROPPED.iter().any(|p| head.starts_with(p))
}

/// Whether `head` may still become a dropped line.
fn undecided(head: &[u8]) -> bool {
    DROPPED.iter().any(|p| p.starts_with(head))
}

impl<W: Write> Write for Retarget<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            match self.line {
                Line::Start => {
                    let byte = rest[0];
                    rest = &rest[1..];
                    self.head.push(byte);
                    if byte == b'\n' {
                        self.inner.write_all(&self.head)?;
                        self.head.clear();
                    } else if drops(&self.head) {
                        self.head.clear();
                        self.line = Line::Drop;
                    } else if !undecided(&self.head) {
                        self.inner.write_all(&self.head)?;
                        self.head.clear();
                        self.line = Line::Keep;
                    }
                }
                Line::Keep | Line::Drop => {
                    let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
                    if self.line == Line::Keep {
                        self.inner.write_all(&rest[..end])?;
                    }
                    if rest[end - 1] == b'\n' {
                        self.line = Line::Start;
                    }
                    rest = &rest[end..];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "-- MariaDB dump\n\
        CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n\
        \n\
        USE `shop`;\n\
        CREATE TABLE `t` (a int);\n\
        INSERT INTO `t` VALUES (1),(2);\n\
        -- USE `x`; in a comment stays\n";

    const WANT: &str = "-- MariaDB dump\n\
        \n\
        CREATE TABLE `t` (a int);\n\
        INSERT INTO `t` VALUES (1),(2);\n\
        -- USE `x`; in a comment stays\n";

    #[test]
    fn drops_the_lines_that_select_a_database_at_any_split() {
        for split in 0..=DUMP.len() {
            let mut out = Retarget::new(Vec::new());
            out.write_all(&DUMP.as_bytes()[..split]).unwrap();
            out.write_all(&DUMP.as_bytes()[split..]).unwrap();
            let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
            assert_eq!(text, WANT, "split at {split}");
        }
    }

    #[test]
    fn a_short_last_line_is_kept() {
        let mut out = Retarget::new(Vec::new());
        out.write_all(b"x\nUS").unwrap();
        assert_eq!(out.into_inner().unwrap(), b"x\nUS");
    }
}
