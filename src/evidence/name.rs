//! Table and database names as they appear in dump text: bare words,
//! `` `backtick quoted` `` (MariaDB) or `"double quoted"` (PostgreSQL)
//! identifiers, optionally qualified with dots.

/// The outcome of scanning a name at the start of some bytes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NameScan {
    /// The bytes end inside the name: more are needed.
    Incomplete,
    /// No name starts here.
    Invalid,
    /// A name of `parts` dot-separated parts fills `..end`.
    Done {
        /// Where the name ends.
        end: usize,
        /// How many parts it has (`db.table` has 2).
        parts: usize,
    },
}

/// Whether `b` may appear in an unquoted identifier (bytes of multi-byte
/// UTF-8 characters included).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Scans a possibly qualified name at the start of `s`. With `complete`, the
/// bytes are known to end where `s` ends (end of line), so a name running to
/// the end is done rather than incomplete.
pub(super) fn scan(s: &[u8], complete: bool) -> NameScan {
    let mut i = 0;
    let mut parts = 0;
    loop {
        match s.get(i) {
            None => return NameScan::Incomplete,
            Some(&quote @ (b'`' | b'"')) => {
                // A quoted part; a doubled quote stands for itself.
                i += 1;
                loop {
                    match memchr::memchr(quote, &s[i..]) {
                        None => return NameScan::Incomplete,
                        Some(k) if s.get(i + k + 1) == Some(&quote) => i += k + 2,
                        Some(k) if i + k + 1 == s.len() && !complete => {
                            // Cannot tell a closing quote from a doubled one yet.
                            return NameScan::Incomplete;
                        }
                        Some(k) => {
                            i += k + 1;
                            break;
                        }
                    }
                }
            }
            Some(&b) if is_word(b) => {
                while s.get(i).is_some_and(|&b| is_word(b)) {
                    i += 1;
                }
            }
            Some(_) => return NameScan::Invalid,
        }
        parts += 1;
        match s.get(i) {
            Some(b'.') => i += 1,
            Some(_) => return NameScan::Done { end: i, parts },
            None if complete => return NameScan::Done { end: i, parts },
            None => return NameScan::Incomplete,
        }
    }
}

/// Writes a scanned name into `bytes` (cleared first) as a row-count key:
/// backtick-quoted parts unquoted (MariaDB writes every name that way),
/// other parts as written (so PostgreSQL names read as in the dump,
/// `public."My Table"`).
pub(super) fn render(raw: &[u8], bytes: &mut Vec<u8>) {
    bytes.clear();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'`' {
            i += 1;
            while i < raw.len() {
                if raw[i] == b'`' {
                    if raw.get(i + 1) == Some(&b'`') {
                        bytes.push(b'`');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                bytes.push(raw[i]);
                i += 1;
            }
        } else if raw[i] == b'"' {
            // Copy the quoted part verbatim, doubled quotes included.
            let start = i;
            i += 1;
            while i < raw.len() {
                if raw[i] == b'"' {
                    if raw.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            bytes.extend_from_slice(&raw[start..i]);
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(s: &str) -> String {
        let mut out = b"stale".to_vec();
        render(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn scans_bare_quoted_and_qualified_names() {
        let done = |end, parts| NameScan::Done { end, parts };
        assert_eq!(scan(b"public.t (a) FROM", false), done(8, 2));
        assert_eq!(scan(b"public.\"My Table\" (a)", false), done(17, 2));
        assert_eq!(scan(b"`we``ird` VALUES", false), done(9, 1));
        assert_eq!(scan(b"`db`.`t`(", false), done(8, 2));
        assert_eq!(scan(b"`t`", true), done(3, 1));
        assert_eq!(scan(b"`t`", false), NameScan::Incomplete);
        assert_eq!(scan(b"`we`", false), NameScan::Incomplete);
        assert_eq!(scan(b"`we``", false), NameScan::Incomplete);
        assert_eq!(scan(b"public.", false), NameScan::Incomplete);
        assert_eq!(scan(b"public", false), NameScan::Incomplete);
        assert_eq!(scan(b"", true), NameScan::Incomplete);
        assert_eq!(scan(b"(a)", false), NameScan::Invalid);
    }

    #[test]
    fn renders_keys() {
        assert_eq!(rendered("`we``ird`"), "we`ird");
        assert_eq!(rendered("`db`.`t`"), "db.t");
        assert_eq!(
            rendered("public.\"My \"\"Table\"\"\""),
            "public.\"My \"\"Table\"\"\""
        );
        assert_eq!(rendered("public.t"), "public.t");
        assert_eq!(rendered("`t\u{e9}`"), "t\u{e9}");
    }
}
