//! The scanner for plain SQL dumps: a line-at-a-time state machine that
//! keeps at most the capped start of one line, counts COPY rows, hands
//! insert statements to [`InsertScan`], and notes `USE` lines, completion
//! lines and the settings that change how the rest must be read.

use std::collections::BTreeMap;

use memchr::memchr;

use super::insert::{self, Header, InsertScan};
use super::name::{self, NameScan};
use super::Completion;

/// How much of a line's start is kept: enough for any statement header this
/// scanner reads; longer lines are only counted or skipped.
const HEAD_CAP: usize = 4096;

/// The end of a COPY block: a line `\.` after a data line.
const COPY_END: &[u8] = b"\n\\.\n";

/// How much of a line's end is kept (for `FROM stdin;`).
const TAIL_CAP: usize = 16;

/// Whether a line starting with this byte may matter: `COPY`, `INSERT`,
/// `REPLACE`, `USE`, `-- ` comments, `SET`, `DELIMITER`.
static FIRST_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let firsts = b"CIRUSD-";
    while i < firsts.len() {
        table[firsts[i] as usize] = true;
        i += 1;
    }
    table
};

/// The starts of the lines that matter.
const PREFIXES: [&[u8]; 7] = [
    b"COPY ",
    b"INSERT ",
    b"REPLACE ",
    b"USE ",
    b"-- ",
    b"SET standard_conforming_strings = ",
    b"DELIMITER ",
];

const PG_DUMP_COMPLETE: &[u8] = b"-- PostgreSQL database dump complete";
const PG_CLUSTER_HEADER: &[u8] = b"-- PostgreSQL database cluster dump";
const PG_CLUSTER_COMPLETE: &[u8] = b"-- PostgreSQL database cluster dump complete";
const MARIADB_COMPLETE: &[u8] = b"-- Dump completed";

/// What the scanner is in the middle of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the start of a line that may matter.
    Head,
    /// Skipping to the end of a line that does not.
    Skip,
    /// Inside a COPY block.
    Copy(CopyLine),
    /// Inside an insert statement.
    Insert,
}

/// How far into a COPY data line the scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyLine {
    /// At the start of a line.
    Start,
    /// After a `\` at the start of a line.
    Backslash,
    /// After `\.` at the start of a line: a newline ends the block.
    BackslashDot,
    /// Inside a data line.
    Row,
}

/// The plain-format scanner.
#[derive(Debug)]
pub(super) struct TextScanner {
    state: State,
    /// The first [`HEAD_CAP`] bytes of the current line.
    head: Vec<u8>,
    /// The current line's length so far.
    line_len: usize,
    /// The current line's last [`TAIL_CAP`] bytes (fewer at first).
    tail: [u8; TAIL_CAP],
    /// The current COPY block's or insert statement's table key.
    key: String,
    /// Scratch for rendering keys without allocating.
    key_bytes: Vec<u8>,
    /// Rows counted for `key` and not yet added to `rows` (`None` before
    /// the first table): one map update per run of the same table.
    pending: Option<u64>,
    /// The start of the last insert statement up to its table name, while
    /// nothing that changes how inserts are read came since: a line that
    /// starts the same way inserts into the same table.
    last_header: Vec<u8>,
    /// Rows counted in the current COPY block.
    copy_rows: u64,
    /// Finds [`COPY_END`].
    copy_end: memchr::memmem::Finder<'static>,
    /// The current insert statement's scan.
    insert: InsertScan,
    /// The database of the last `USE` line (MariaDB whole-server dumps).
    database: Option<String>,
    /// Whether the statement delimiter is `;` (MariaDB changes it around
    /// trigger and routine bodies, whose inserts are not data).
    default_delimiter: bool,
    /// In a PostgreSQL dump: whether the current section is table data
    /// (inserts elsewhere, in function bodies, are not data).
    pg_table_data: Option<bool>,
    /// PostgreSQL's standard_conforming_strings: backslashes are data.
    standard_strings: bool,
    /// Whether the dump declared itself a pg_dumpall cluster dump.
    cluster: bool,
    /// The last completion line seen.
    completion: Option<Completion>,
    /// Whether a completion line that completes this dump was seen.
    complete: bool,
    /// Rows per table so far.
    rows: BTreeMap<String, u64>,
}

/// What the scanner found.
pub(super) struct Found {
    /// Rows per table.
    pub(super) rows: BTreeMap<String, u64>,
    /// The last completion line seen.
    pub(super) completion: Option<Completion>,
    /// Whether a completion line that completes this dump was seen.
    pub(super) complete: bool,
}

impl TextScanner {
    /// A scanner at the start of a dump.
    pub(super) fn new() -> Self {
        TextScanner {
            state: State::Head,
            head: Vec::with_capacity(256),
            line_len: 0,
            tail: [0; TAIL_CAP],
            key: String::new(),
            key_bytes: Vec::new(),
            pending: None,
            last_header: Vec::new(),
            copy_rows: 0,
            copy_end: memchr::memmem::Finder::new(COPY_END),
            insert: InsertScan::new(true),
            database: None,
            default_delimiter: true,
            pg_table_data: None,
            standard_strings: false,
            cluster: false,
            completion: None,
            complete: false,
            rows: BTreeMap::new(),
        }
    }

    /// Feeds the next bytes of the dump.
    pub(super) fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let taken = match self.state {
                State::Head => self.feed_head(data),
                State::Skip => match memchr(b'\n', data) {
                    Some(k) => {
                        self.state = State::Head;
                        k + 1
                    }
                    None => data.len(),
                },
                State::Copy(line) => self.feed_copy(line, data),
                State::Insert => match self.insert.feed(data) {
                    Some(k) => {
                        self.end_insert();
                        self.state = State::Skip;
                        k
                    }
                    None => data.len(),
                },
            };
            data = &data[taken..];
        }
    }

    /// The evidence, once the dump has ended.
    pub(super) fn finish(mut self) -> Found {
        // A last line without a newline still counts as a line.
        if self.state == State::Head && self.line_len > 0 {
            self.end_line();
        }
        // Rows of a block or statement the dump ended in (it is incomplete).
        match self.state {
            State::Copy(_) => self.add_rows(self.copy_rows),
            State::Insert => self.end_insert(),
            State::Head | State::Skip => {}
        }
        self.flush();
        Found {
            rows: self.rows,
            completion: self.completion,
            complete: self.complete,
        }
    }

    /// Reads the start of a line; returns the bytes taken.
    fn feed_head(&mut self, data: &[u8]) -> usize {
        if self.line_len == 0 && self.same_insert_as_before(data) {
            self.insert = InsertScan::new(!self.standard_strings);
            self.state = State::Insert;
            return self.last_header.len();
        }
        let end = memchr(b'\n', data);
        let piece = &data[..end.unwrap_or(data.len())];
        if self.line_len == 0 {
            match piece.first() {
                // A blank line.
                None => return 1,
                Some(&first) if !FIRST_BYTE[first as usize] => {
                    self.state = State::Skip;
                    return 0;
                }
                Some(_) => {}
            }
        }
        let room = HEAD_CAP - self.head.len();
        let kept = room.min(piece.len());
        self.head.extend_from_slice(&piece[..kept]);
        self.line_len += piece.len();
        self.push_tail(piece);

        if !could_matter(&self.head) {
            self.clear_line();
            self.state = State::Skip;
            return kept;
        }
        if self.inserts_are_data() && (self.head[0] == b'I' || self.head[0] == b'R') {
            match insert::header(&self.head, end.is_some() && kept == piece.len()) {
                Header::Incomplete if self.head.len() < HEAD_CAP => {}
                Header::Incomplete | Header::NotInsert => {
                    self.clear_line();
                    self.state = State::Skip;
                    return kept;
                }
                Header::Table {
                    start,
                    end: name_end,
                    parts,
                } => {
                    self.begin_insert(start, name_end, parts);
                    // The statement's body: the rest of the kept start, then
                    // the rest of the data.
                    let body = std::mem::take(&mut self.head);
                    self.last_header.clear();
                    self.last_header.extend_from_slice(&body[..name_end]);
                    let ended = self.insert.feed(&body[name_end..]);
                    self.head = body;
                    self.clear_line();
                    if ended.is_some() {
                        // The statement ended inside the kept start: skip the
                        // rest of its line.
                        self.end_insert();
                        self.state = State::Skip;
                    } else {
                        self.state = State::Insert;
                    }
                    return kept;
                }
            }
        }
        if self.head.len() == HEAD_CAP && !self.head.starts_with(b"COPY ") {
            // Only a COPY line needs its end (`FROM stdin;`) past the cap.
            self.clear_line();
            self.state = State::Skip;
            return kept;
        }
        match end {
            Some(k) => {
                self.end_line();
                k + 1
            }
            None => piece.len(),
        }
    }

    /// Keeps the last bytes of the line.
    fn push_tail(&mut self, piece: &[u8]) {
        if piece.len() >= TAIL_CAP {
            self.tail.copy_from_slice(&piece[piece.len() - TAIL_CAP..]);
        } else {
            self.tail.copy_within(piece.len().., 0);
            self.tail[TAIL_CAP - piece.len()..].copy_from_slice(piece);
        }
    }

    fn clear_line(&mut self) {
        self.head.clear();
        self.line_len = 0;
    }

    /// Whether insert statements here are table data.
    fn inserts_are_data(&self) -> bool {
        self.default_delimiter && self.pg_table_data != Some(false)
    }

    /// Whether `data` starts a line with the same insert header as the last
    /// statement, the table name ended (a doubled quote or another word byte
    /// would continue it).
    fn same_insert_as_before(&self, data: &[u8]) -> bool {
        let n = self.last_header.len();
        n > 0
            && data.len() > n
            && data[..n] == self.last_header[..]
            && matches!(data[n], b' ' | b'\t' | b'\r' | b'\n' | b'(')
    }

    /// Acts on a whole line that may matter, then starts the next one.
    fn end_line(&mut self) {
        // This line may change how the next insert is read.
        self.last_header.clear();
        let whole = self.line_len == self.head.len();
        let mut line = std::mem::take(&mut self.head);
        if line.last() == Some(&b'\r') && whole {
            line.pop();
        }
        if let Some(rest) = line.strip_prefix(b"COPY ") {
            let tail_len = self.line_len.min(TAIL_CAP);
            let mut tail = &self.tail[TAIL_CAP - tail_len..];
            if tail.last() == Some(&b'\r') {
                tail = &tail[..tail.len() - 1];
            }
            if let (true, NameScan::Done { end, parts }) =
                (tail.ends_with(b"FROM stdin;"), name::scan(rest, whole))
            {
                self.set_key(&rest[..end], parts);
                self.copy_rows = 0;
                self.state = State::Copy(CopyLine::Start);
            }
        } else if !whole {
            // Other lines that matter are short.
        } else if let Some(rest) = line.strip_prefix(b"USE ") {
            if let NameScan::Done { end, parts: 1 } = name::scan(rest, true) {
                if rest[end..].trim_ascii() == b";" {
                    name::render(&rest[..end], &mut self.key_bytes);
                    self.database = Some(String::from_utf8_lossy(&self.key_bytes).into_owned());
                }
            }
        } else if line.starts_with(b"-- ") {
            self.comment(&line);
        } else if let Some(value) = line.strip_prefix(b"SET standard_conforming_strings = ") {
            self.standard_strings = value.trim_ascii() == b"on;";
        } else if let Some(delimiter) = line.strip_prefix(b"DELIMITER ") {
            self.default_delimiter = delimiter.trim_ascii() == b";";
        }
        self.head = line;
        self.clear_line();
    }

    /// Acts on a whole `-- ` comment line.
    fn comment(&mut self, line: &[u8]) {
        let completion = if line == PG_DUMP_COMPLETE {
            Some(Completion::Postgresql)
        } else if line == PG_CLUSTER_COMPLETE {
            Some(Completion::PostgresqlCluster)
        } else if line == MARIADB_COMPLETE || line.starts_with(b"-- Dump completed on ") {
            Some(Completion::Mariadb)
        } else {
            None
        };
        if let Some(kind) = completion {
            self.completion = Some(kind);
            // A cluster dump is complete only at its own last line, not at
            // the end of each database in it.
            self.complete |= !self.cluster || kind == Completion::PostgresqlCluster;
        } else if line == PG_CLUSTER_HEADER {
            self.cluster = true;
        } else if line.starts_with(b"-- Name: ") || line.starts_with(b"-- Data for Name: ") {
            // pg_dump heads every object's section with such a line.
            self.pg_table_data = Some(memchr::memmem::find(line, b"; Type: TABLE DATA;").is_some());
        }
    }

    /// Sets the current table key from a name as written.
    fn set_key(&mut self, raw: &[u8], parts: usize) {
        name::render(raw, &mut self.key_bytes);
        if let (1, Some(database)) = (parts, &self.database) {
            let prefix = database.bytes().chain([b'.']);
            self.key_bytes.splice(0..0, prefix);
        }
        if self.key.as_bytes() != self.key_bytes.as_slice() {
            self.flush();
            self.key = String::from_utf8_lossy(&self.key_bytes).into_owned();
        }
        // A table named counts even with no rows.
        self.pending.get_or_insert(0);
    }

    fn begin_insert(&mut self, start: usize, end: usize, parts: usize) {
        let head = std::mem::take(&mut self.head);
        self.set_key(&head[start..end], parts);
        self.head = head;
        self.insert = InsertScan::new(!self.standard_strings);
    }

    fn end_insert(&mut self) {
        self.add_rows(self.insert.tuples);
        self.insert.tuples = 0;
    }

    /// Adds rows to the current table's count.
    fn add_rows(&mut self, rows: u64) {
        *self.pending.get_or_insert(0) += rows;
    }

    /// Adds the rows counted for the current table to the map.
    fn flush(&mut self) {
        let Some(rows) = self.pending.take() else {
            return;
        };
        match self.rows.get_mut(self.key.as_str()) {
            Some(count) => *count += rows,
            None => {
                self.rows.insert(self.key.clone(), rows);
            }
        }
    }

    /// Counts COPY data lines until `\.`; returns the bytes taken.
    fn feed_copy(&mut self, mut line: CopyLine, data: &[u8]) -> usize {
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            line = match line {
                CopyLine::Row => {
                    // Every newline before the end marker ends a row.
                    let rest = &data[i..];
                    if let Some(k) = self.copy_end.find(rest) {
                        self.copy_rows += count_newlines(&rest[..=k]);
                        self.add_rows(self.copy_rows);
                        self.copy_rows = 0;
                        self.state = State::Head;
                        return i + k + COPY_END.len();
                    }
                    match memchr::memrchr(b'\n', rest) {
                        // The bytes after the last newline may start the
                        // marker: the arms below look at them one by one.
                        Some(k) => {
                            self.copy_rows += count_newlines(rest);
                            i += k + 1;
                            CopyLine::Start
                        }
                        None => {
                            i = data.len();
                            CopyLine::Row
                        }
                    }
                }
                CopyLine::Start if b == b'\\' => {
                    i += 1;
                    CopyLine::Backslash
                }
                CopyLine::Backslash if b == b'.' => {
                    i += 1;
                    CopyLine::BackslashDot
                }
                CopyLine::BackslashDot if b == b'\n' => {
                    self.add_rows(self.copy_rows);
                    self.copy_rows = 0;
                    self.state = State::Head;
                    return i + 1;
                }
                _ => CopyLine::Row,
            };
        }
        self.state = State::Copy(line);
        data.len()
    }
}

/// Newlines in `bytes` (vectorised).
fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Whether a line starting with `head` may matter.
fn could_matter(head: &[u8]) -> bool {
    PREFIXES.iter().any(|prefix| {
        let n = prefix.len().min(head.len());
        head[..n] == prefix[..n]
    })
}
