//! Counting the rows of `INSERT` / `REPLACE` statements: the header up to
//! the table name is parsed from the start of a line, the rest of the
//! statement streams through [`InsertScan`], which counts the top-level
//! parenthesised tuples after `VALUES` until the `;` that ends the statement.

use wide::u8x64;

use super::name::{self, NameScan};

/// The outcome of parsing the start of a line as an insert statement.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Header {
    /// The line ends before the table name does: more bytes are needed.
    Incomplete,
    /// Not an insert statement this module understands.
    NotInsert,
    /// The table name is `line[start..end]`, with `parts` parts.
    Table {
        /// Where the name starts.
        start: usize,
        /// Where the name ends: the statement's body starts here.
        end: usize,
        /// How many dot-separated parts the name has.
        parts: usize,
    },
}

/// Words allowed between `INSERT`/`REPLACE` and the table name.
const MODIFIERS: [&[u8]; 5] = [
    b"LOW_PRIORITY",
    b"DELAYED",
    b"HIGH_PRIORITY",
    b"IGNORE",
    b"INTO",
];

/// Parses `INSERT [modifiers] [INTO] name` or `REPLACE [modifiers] [INTO]
/// name` at the start of `line`; `complete` says the line ends where `line`
/// does.
pub(super) fn header(line: &[u8], complete: bool) -> Header {
    let mut i = if line.starts_with(b"INSERT") {
        6
    } else if line.starts_with(b"REPLACE") {
        7
    } else if !complete && (b"INSERT".starts_with(line) || b"REPLACE".starts_with(line)) {
        return Header::Incomplete;
    } else {
        return Header::NotInsert;
    };
    loop {
        // At least one blank before each word and the name.
        let blanks = line[i..].iter().take_while(|b| **b == b' ').count();
        i += blanks;
        if i == line.len() {
            return if complete {
                Header::NotInsert
            } else {
                Header::Incomplete
            };
        }
        if blanks == 0 {
            return Header::NotInsert;
        }
        let word = line[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic() || **b == b'_')
            .count();
        if i + word == line.len() && !complete {
            return Header::Incomplete;
        }
        let next = line.get(i + word);
        if word > 0 && matches!(next, Some(b' ') | None) && MODIFIERS.contains(&&line[i..i + word])
        {
            i += word;
            continue;
        }
        return match name::scan(&line[i..], complete) {
            NameScan::Incomplete => Header::Incomplete,
            NameScan::Invalid => Header::NotInsert,
            NameScan::Done { end, parts } => Header::Table {
                start: i,
                end: i + end,
                parts,
            },
        };
    }
}

/// Where in the statement the scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After the name: blanks, an optional column list, `VALUES`.
    BeforeValues {
        /// Whether a word (`VALUES`) was seen since the name or column list.
        seen_word: bool,
    },
    /// Inside the column list.
    Columns,
    /// After `VALUES`: tuples.
    Values,
}

/// Byte classes outside quotes, for the tuple scan.
const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const OPEN: u8 = 2;
const CLOSE: u8 = 3;
const END: u8 = 4;

static CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    table[b'\'' as usize] = QUOTE;
    table[b'"' as usize] = QUOTE;
    table[b'`' as usize] = QUOTE;
    table[b'(' as usize] = OPEN;
    table[b')' as usize] = CLOSE;
    table[b';' as usize] = END;
    table
};

/// The streaming state of one insert statement after its table name.
#[derive(Debug)]
pub(super) struct InsertScan {
    phase: Phase,
    /// Parenthesis depth outside quotes.
    depth: u32,
    /// The quote character of the string or identifier the scan is in.
    quote: Option<u8>,
    /// The next byte is escaped (by a backslash inside a string).
    escape: bool,
    /// Whether a backslash escapes the next byte inside `'` and `"` strings
    /// (MariaDB; PostgreSQL only without standard_conforming_strings).
    backslash_escapes: bool,
    /// Top-level tuples seen so far.
    pub(super) tuples: u64,
}

impl InsertScan {
    /// A scan at the start of a statement's body.
    pub(super) fn new(backslash_escapes: bool) -> Self {
        InsertScan {
            phase: Phase::BeforeValues { seen_word: false },
            depth: 0,
            quote: None,
            escape: false,
            backslash_escapes,
            tuples: 0,
        }
    }

    /// Feeds the next bytes of the statement. Returns how many bytes the
    /// statement took when its final `;` is among them, `None` when it goes
    /// on past `data`.
    pub(super) fn feed(&mut self, data: &[u8]) -> Option<usize> {
        let mut i = 0;
        // Bytes before this go one by one: a block there had to give up.
        let mut scalar_until = 0;
        while i < data.len() {
            if self.escape {
                self.escape = false;
                i += 1;
                continue;
            }
            if self.phase == Phase::Values
                && i >= scalar_until
                && data.len() - i >= BLOCK
                && matches!(self.quote, None | Some(b'\''))
            {
                let block = data[i..i + BLOCK].try_into().expect("a whole block");
                match self.scan_block(block) {
                    Block::Scanned => {
                        i += BLOCK;
                        continue;
                    }
                    Block::Ended(k) => return Some(i + k),
                    Block::GiveUp => scalar_until = i + BLOCK,
                }
            }
            if let Some(quote) = self.quote {
                let found = if self.backslash_escapes && quote != b'`' {
                    memchr::memchr2(quote, b'\\', &data[i..])
                } else {
                    memchr::memchr(quote, &data[i..])
                };
                // No closing quote here: the string goes on.
                i += found?;
                if data[i] == b'\\' {
                    self.escape = true;
                } else {
                    // A doubled quote closes and reopens the string: the
                    // same for counting purposes.
                    self.quote = None;
                }
                i += 1;
                continue;
            }
            match self.phase {
                Phase::Values => {
                    // The hot loop: skip plain bytes between quotes and parentheses.
                    while i < data.len() && CLASS[data[i] as usize] == PLAIN {
                        i += 1;
                    }
                    let &b = data.get(i)?;
                    match CLASS[b as usize] {
                        QUOTE => self.quote = Some(b),
                        OPEN => {
                            if self.depth == 0 {
                                self.tuples += 1;
                            }
                            self.depth += 1;
                        }
                        CLOSE => self.depth = self.depth.saturating_sub(1),
                        _ if self.depth == 0 => return Some(i + 1),
                        _ => {}
                    }
                    i += 1;
                }
                Phase::Columns => {
                    let b = data[i];
                    match CLASS[b as usize] {
                        QUOTE => self.quote = Some(b),
                        OPEN => self.depth += 1,
                        CLOSE => {
                            self.depth -= 1;
                            if self.depth == 0 {
                                self.phase = Phase::BeforeValues { seen_word: false };
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                Phase::BeforeValues { seen_word } => {
                    let b = data[i];
                    match CLASS[b as usize] {
                        OPEN if seen_word => {
                            // The first tuple: the Values arm counts it.
                            self.phase = Phase::Values;
                            continue;
                        }
                        OPEN => {
                            self.phase = Phase::Columns;
                            self.depth = 1;
                        }
                        QUOTE => self.quote = Some(b),
                        END => return Some(i + 1),
                        _ if b.is_ascii_alphabetic() => {
                            self.phase = Phase::BeforeValues { seen_word: true };
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
        }
        None
    }

    /// Scans a block of tuples at once, when it has no `"` or `` ` `` and
    /// every backslash in it is inside a `'` string: bit masks of its quotes,
    /// backslashes and parentheses (SIMD compares) give which bytes are
    /// inside strings (a prefix XOR of the unescaped quotes), and only the
    /// parentheses and `;` outside strings are visited. The result is the
    /// same as byte by byte.
    fn scan_block(&mut self, block: &[u8; BLOCK]) -> Block {
        let bytes = u8x64::new(*block);
        let mask = |byte: u8| bytes.simd_eq(u8x64::splat(byte));
        if (mask(b'"') | mask(b'`')).any() {
            return Block::GiveUp;
        }
        let backslashes = if self.backslash_escapes {
            mask(b'\\').to_bitmask()
        } else {
            0
        };
        let mut carry = u64::from(self.escape);
        let escaped = escaped_bytes(backslashes, &mut carry);
        let mut inside = prefix_xor(mask(b'\'').to_bitmask() & !escaped);
        if self.quote.is_some() {
            inside = !inside;
        }
        if backslashes & !inside != 0 {
            // A backslash outside a string is plain: the masks assumed not.
            return Block::GiveUp;
        }
        let mut events = (mask(b'(') | mask(b')') | mask(b';')).to_bitmask() & !inside;
        while events != 0 {
            let j = events.trailing_zeros() as usize;
            match block[j] {
                b'(' => {
                    if self.depth == 0 {
                        self.tuples += 1;
                    }
                    self.depth += 1;
                }
                b')' => self.depth = self.depth.saturating_sub(1),
                _ if self.depth == 0 => return Block::Ended(j + 1),
                _ => {}
            }
            events &= events - 1;
        }
        self.quote = (inside >> 63 == 1).then_some(b'\'');
        self.escape = carry == 1;
        Block::Scanned
    }
}

/// Bytes in a block scan.
const BLOCK: usize = 64;

/// What a block scan did.
enum Block {
    /// The whole block was scanned.
    Scanned,
    /// The statement ended after this many bytes of the block.
    Ended(usize),
    /// The block needs the byte-by-byte scan.
    GiveUp,
}

/// Bit `j` set where an odd number of bits at or below `j` are set in `x`:
/// with `x` the quotes, the bytes inside strings.
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The bytes escaped by a backslash: the odd-numbered bytes after each run
/// of backslashes. `carry` is 1 when the block's first byte is escaped by
/// the last byte of the block before, and is set for the next block (the
/// method of simdjson's string scanner).
fn escaped_bytes(backslashes: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslashes = backslashes & !*carry;
    let follows_escape = (backslashes << 1) | *carry;
    let odd_starts = backslashes & !EVEN & !follows_escape;
    let (even_starts, overflow) = odd_starts.overflowing_add(backslashes);
    *carry = u64::from(overflow);
    let invert = even_starts << 1;
    (EVEN ^ invert) & follows_escape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers() {
        let table = |start, end, parts| Header::Table { start, end, parts };
        assert_eq!(header(b"INSERT INTO `t` VALUES", false), table(12, 15, 1));
        assert_eq!(
            header(b"INSERT  IGNORE INTO `t` (`a`)", false),
            table(20, 23, 1)
        );
        assert_eq!(
            header(b"REPLACE INTO `db`.`t` VALUES", false),
            table(13, 21, 2)
        );
        assert_eq!(
            header(b"INSERT INTO public.\"My Table\" VALUES", false),
            table(12, 29, 2)
        );
        assert_eq!(header(b"INSERT INTO `t`", true), table(12, 15, 1));
        assert_eq!(header(b"INSERT INTO `t`", false), Header::Incomplete);
        assert_eq!(header(b"INSERT IN", false), Header::Incomplete);
        assert_eq!(header(b"INSERT ", false), Header::Incomplete);
        assert_eq!(header(b"INSERT", false), Header::Incomplete);
        assert_eq!(header(b"I", false), Header::Incomplete);
        assert_eq!(header(b"REP", false), Header::Incomplete);
        assert_eq!(header(b"REP", true), Header::NotInsert);
        assert_eq!(header(b"INSERTED", false), Header::NotInsert);
        assert_eq!(header(b"INSERT (", false), Header::NotInsert);
        assert_eq!(header(b"UPDATE t", false), Header::NotInsert);
    }

    /// Feeds `body` in one piece and returns (tuples, bytes taken).
    fn count(body: &str, backslash_escapes: bool) -> (u64, Option<usize>) {
        let mut scan = InsertScan::new(backslash_escapes);
        let taken = scan.feed(body.as_bytes());
        (scan.tuples, taken)
    }

    #[test]
    fn counts_top_level_tuples() {
        let cases: &[(&str, bool, u64)] = &[
            (" VALUES (1),(2),(3);", true, 3),
            (" VALUES\n(1,'a'),\n(2,'b');", true, 2),
            (" (`a`, `b(`) VALUES (1,2);", true, 1),
            (" VALUES (1,'it''s ),( ; \"q\"'),(2,'x');", true, 2),
            (" VALUES (1,'it\\'s ),( ;'),(2,\"dq \\\" );\");", true, 2),
            (" VALUES (1,'back\\\\'),(2,'x');", true, 2),
            // PostgreSQL with standard_conforming_strings: a backslash is data.
            (" VALUES\n\t(1, 'back\\'),\n\t(2, ');(');", false, 2),
            (" VALUES (1, point(1,2)), (2, point(3,4));", true, 2),
            (" VALUES (1) ON CONFLICT DO NOTHING;", false, 1),
            (" SELECT 1;", true, 0),
        ];
        for (body, escapes, tuples) in cases {
            let (counted, taken) = count(body, *escapes);
            assert_eq!(counted, *tuples, "{body}");
            assert_eq!(
                taken,
                Some(body.len()),
                "{body}: the statement ends at its `;`"
            );
        }
    }

    /// The tuple count and statement length of `VALUES` followed by
    /// `body`, byte by byte in the plainest way.
    fn reference(body: &[u8], backslash_escapes: bool) -> (u64, Option<usize>) {
        let (mut quote, mut depth, mut tuples, mut i) = (None, 0u32, 0, 0);
        while i < body.len() {
            let b = body[i];
            i += 1;
            if let Some(q) = quote {
                if backslash_escapes && q != b'`' && b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
                continue;
            }
            match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => {
                    tuples += u64::from(depth == 0);
                    depth += 1;
                }
                b')' => depth = depth.saturating_sub(1),
                b';' if depth == 0 => return (tuples, Some(i + "VALUES ".len())),
                _ => {}
            }
        }
        (tuples, None)
    }

    #[test]
    fn block_scan_agrees_with_the_byte_by_byte_scan() {
        // Random statements over the bytes that matter, fed in random
        // pieces: the block scan must give what the plainest scan gives.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound
        };
        for round in 0..3000 {
            let len = 1 + next(1000) as usize;
            // Backslashes from rare to frequent; quotes, parentheses, and
            // rare `;`, `"` and `` ` `` (which send blocks byte by byte).
            let backslashes = [3, 30, 150][round % 3];
            let body: Vec<u8> = (0..len)
                .map(|_| match next(1000) {
                    0 => b'"',
                    1 => b'`',
                    2..=3 => b';',
                    n if n < 4 + backslashes => b'\\',
                    n if n < 154 + backslashes => b'\'',
                    n if n < 254 + backslashes => b'(',
                    n if n < 354 + backslashes => b')',
                    n if n < 454 + backslashes => b',',
                    _ => b'x',
                })
                .collect();
            let escapes = round % 4 != 0;
            let statement = [b"VALUES ".as_slice(), &body].concat();
            let expected = reference(&body, escapes);
            let mut scan = InsertScan::new(escapes);
            let mut offset = 0;
            let mut ended = None;
            while offset < statement.len() && ended.is_none() {
                let piece = (1 + next(200) as usize).min(statement.len() - offset);
                ended = scan
                    .feed(&statement[offset..offset + piece])
                    .map(|k| offset + k);
                offset += piece;
            }
            assert_eq!((scan.tuples, ended), expected, "round {round}");
        }
    }

    #[test]
    fn stops_at_the_end_of_the_statement() {
        let body = " VALUES (1);\nINSERT INTO `t` VALUES (2);\n";
        assert_eq!(count(body, true), (1, Some(12)));
        assert_eq!(count(" VALUES (1,'a;", true), (1, None));
    }
}
