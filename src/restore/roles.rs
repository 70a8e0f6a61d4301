//! Replaying PostgreSQL globals (`pg_dumpall --globals-only`) onto a server
//! that already has some of the roles: each `CREATE ROLE name;` line becomes
//! a block that creates the role only if it is missing, so that the replay
//! can still stop at the first real error. The `ALTER ROLE` lines that follow
//! set every attribute (and password) as the backup has them.

use std::io::{self, Write};

/// What such a line starts with.
const CREATE_ROLE: &[u8] = b"CREATE ROLE ";
/// A role name is at most 63 bytes, quoted at most twice that: a longer
/// line is not one pg_dumpall writes, and is passed on as it is.
const LONGEST: usize = 256;

/// A writer that makes `inner`'s `CREATE ROLE name;` lines skip existing
/// roles.
pub(crate) struct ExistingRoles<W> {
    inner: W,
    /// The current line while it may still be one to rewrite.
    head: Vec<u8>,
    /// Inside a line that is passed on as it is.
    passing: bool,
}

impl<W: Write> ExistingRoles<W> {
    pub(crate) fn new(inner: W) -> ExistingRoles<W> {
        ExistingRoles {
            inner,
            head: Vec::with_capacity(LONGEST),
            passing: false,
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

    /// Writes what is still held and returns the inner writer.
    pub(crate) fn into_inner(mut self) -> io::Result<W> {
        self.inner.write_all(&self.head)?;
        Ok(self.inner)
    }

    /// The held line is complete (it ends with a newline).
    fn line_done(&mut self) -> io::Result<()> {
        let line = std::mem::take(&mut self.head);
        match rewrite(&line) {
            Some(block) => self.inner.write_all(block.as_bytes())?,
            None => self.inner.write_all(&line)?,
        }
        self.head = line;
        self.head.clear();
        Ok(())
    }
}

/// `CREATE ROLE name;\n` as a block that skips an existing role, or `None`
/// for any other line.
fn rewrite(line: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?;
    let statement = text.strip_suffix('\n')?.trim_end_matches('\r');
    let name = statement.strip_prefix("CREATE ROLE ")?.strip_suffix(';')?;
    if name.is_empty() || name.contains(';') {
        return None;
    }
    // A dollar-quote tag the name cannot close.
    let mut tag = "dbbr".to_string();
    while statement.contains(&format!("${tag}$")) {
        tag.push('_');
    }
    Some(format!(
        "DO ${tag}$BEGIN CREATE ROLE {name}; EXCEPTION WHEN duplicate_object THEN \
         RAISE NOTICE 'role % exists: its attributes are set again', {literal}; END${tag}$;\n",
        literal = quote_literal(name),
    ))
}

/// `name` (as pg_dumpall wrote it, possibly double-quoted) as an SQL string
/// literal, for the notice.
fn quote_literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

impl<W: Write> Write for ExistingRoles<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            let (part, after) = rest.split_at(end);
            rest = after;
            let complete = part.ends_with(b"\n");
            if self.passing {
                self.inner.write_all(part)?;
                self.passing = !complete;
                continue;
            }
            self.head.extend_from_slice(part);
            let n = self.head.len().min(CREATE_ROLE.len());
            if self.head[..n] != CREATE_ROLE[..n] || self.head.len() > LONGEST {
                // Not a line to rewrite: pass it on.
                self.inner.write_all(&self.head)?;
                self.head.clear();
                self.passing = !complete;
            } else if complete {
                self.line_done()?;
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

    const GLOBALS: &str = "--\n-- Roles\n--\n\nCREATE ROLE app;\n\
        ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:x$y:z';\n\
        CREATE ROLE \"Odd $dbbr$ name\";\n\
        CREATE ROLE app_reader; -- no: a comment after it\n\
        GRANT app TO app_reader;\n";

    #[test]
    fn create_role_lines_skip_existing_roles_at_any_split() {
        let mut want = None;
        for split in 0..=GLOBALS.len() {
            let mut out = ExistingRoles::new(Vec::new());
            out.write_all(&GLOBALS.as_bytes()[..split]).unwrap();
            out.write_all(&GLOBALS.as_bytes()[split..]).unwrap();
            let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
            let want = want.get_or_insert_with(|| text.clone());
            assert_eq!(&text, want, "split at {split}");
        }
        let text = want.unwrap();
        assert!(
            text.contains(
                "DO $dbbr$BEGIN CREATE ROLE app; EXCEPTION WHEN duplicate_object THEN RAISE \
                 NOTICE 'role % exists: its attributes are set again', 'app'; END$dbbr$;\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("DO $dbbr_$BEGIN CREATE ROLE \"Odd $dbbr$ name\";"),
            "{text}"
        );
        for kept in [
            "--\n-- Roles\n--\n\n",
            "ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:x$y:z';\n",
            "CREATE ROLE app_reader; -- no: a comment after it\n",
            "GRANT app TO app_reader;\n",
        ] {
            assert!(text.contains(kept), "{kept:?} changed: {text}");
        }
    }

    #[test]
    fn an_unfinished_last_line_is_passed_on() {
        let mut out = ExistingRoles::new(Vec::new());
        out.write_all(b"SELECT 1;\nCREATE ROLE x;").unwrap();
        assert_eq!(out.into_inner().unwrap(), b"SELECT 1;\nCREATE ROLE x;");
    }
}
