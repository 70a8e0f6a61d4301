//! How a database is cut into the parts of a parallel backup set, and what
//! each part is called: a pure function of the tables the coordinator saw.
//!
//! A set `NAME.set` (the file name pattern rendered with `set` for the
//! format) is a folder of parts, in restore order:
//!
//! ```text
//! app-2026-12-06T01-00-00Z.set/0000-pre-data.sql.gz
//! app-2026-12-06T01-00-00Z.set/0001-data.sql.gz
//! app-2026-12-06T01-00-00Z.set/0002-public.orders-1.sql.gz
//! app-2026-12-06T01-00-00Z.set/0003-public.orders-2.sql.gz
//! app-2026-12-06T01-00-00Z.set/0004-public.items.sql.gz
//! app-2026-12-06T01-00-00Z.set/0005-post-data.dump.gz
//! app-2026-12-06T01-00-00Z.set.manifest.json
//! ```
//!
//! (`.age` after each part when encrypted.) The manifest, written last, is
//! the set's commit point.

use crate::engine::TableInfo;
use crate::manifest::Section;

/// Tables smaller than this stay in the data part that pg_dump writes:
/// one object for many small tables.
pub(crate) const OWN_PART_FROM: u64 = 1 << 20;

/// One part to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartPlan {
    /// Its object's name.
    pub object: String,
    /// What it holds.
    pub section: Section,
    /// The table a [`Section::Table`] part copies.
    pub table: Option<TableInfo>,
    /// The page range `[first, end)`; no end for the last range, which
    /// reads to the table's end.
    pub pages: Option<(u64, Option<u64>)>,
    /// Its expected raw size, for the upload's part size and the order in
    /// which parts start (largest first).
    pub expected: u64,
}

/// How a set is cut.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cut<'a> {
    /// The set's name (its folder).
    pub set: &'a str,
    /// The suffix of SQL parts (`sql.gz`, `sql.zst.age`, ...).
    pub sql_suffix: &'a str,
    /// The suffix of the post-data archive (`dump.gz`, ...).
    pub archive_suffix: &'a str,
    /// Streams at once.
    pub jobs: usize,
    /// Tables larger than this are cut into page ranges.
    pub split_size: u64,
    /// Whether the server reads page ranges.
    pub tid_ranges: bool,
    /// The server's block size.
    pub block_size: u64,
}

impl Cut<'_> {
    /// The parts of a set of `tables` (those whose data pg_dump would
    /// write), in restore order, and the tables left to the data part.
    pub(crate) fn parts(&self, tables: &[TableInfo]) -> Vec<PartPlan> {
        let mut parts = vec![self.part(Section::PreData, "pre-data", None, None, 0)];
        parts.push(self.part(Section::Data, "data", None, None, 0));
        let mut data_bytes = 0;
        for table in tables {
            // Extension tables keep pg_dump's condition; foreign and small
            // tables are cheaper in the data part.
            let own = table.kind == "r" && !table.extension && table.bytes >= OWN_PART_FROM;
            if !own {
                data_bytes += table.bytes;
                continue;
            }
            let slug = slug(&format!("{}.{}", table.schema, table.name));
            let ranges = self.ranges(table);
            if ranges.len() == 1 {
                parts.push(self.part(Section::Table, &slug, Some(table), None, table.bytes));
                continue;
            }
            let each = table.bytes / ranges.len() as u64;
            for (i, range) in ranges.into_iter().enumerate() {
                let label = format!("{slug}-{}", i + 1);
                parts.push(self.part(Section::Table, &label, Some(table), Some(range), each));
            }
        }
        parts[1].expected = data_bytes;
        parts.push(self.part(Section::PostData, "post-data", None, None, 0));
        for (i, part) in parts.iter_mut().enumerate() {
            let suffix = if part.section == Section::PostData {
                self.archive_suffix
            } else {
                self.sql_suffix
            };
            part.object = format!("{}/{i:04}-{}.{suffix}", self.set, part.object);
        }
        parts
    }

    /// The page ranges of `table`: one when it is not larger than the split
    /// size (or the server cannot read ranges), else at least one per job
    /// and none larger than the split size.
    fn ranges(&self, table: &TableInfo) -> Vec<(u64, Option<u64>)> {
        if !self.tid_ranges || table.bytes <= self.split_size {
            return vec![(0, None)];
        }
        let pages = (table.bytes / self.block_size.max(1)).max(1);
        let by_size = table.bytes.div_ceil(self.split_size.max(1));
        let count = by_size.max(self.jobs as u64).min(pages);
        let step = pages.div_ceil(count);
        let mut ranges: Vec<(u64, Option<u64>)> = (0..count)
            .map(|i| (i * step, Some((i + 1) * step)))
            .take_while(|(first, _)| *first < pages)
            .collect();
        if let Some(last) = ranges.last_mut() {
            last.1 = None;
        }
        ranges
    }

    fn part(
        &self,
        section: Section,
        label: &str,
        table: Option<&TableInfo>,
        pages: Option<(u64, Option<u64>)>,
        expected: u64,
    ) -> PartPlan {
        PartPlan {
            object: label.to_string(),
            section,
            table: table.cloned(),
            pages,
            expected,
        }
    }
}

/// A name fit for an object: letters, digits, `.`, `_` and `-`, the rest
/// `_`, at most 60 characters.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, bytes: u64) -> TableInfo {
        TableInfo {
            oid: 1,
            schema: "Odd Schema".into(),
            name: name.into(),
            quoted: format!("\"Odd Schema\".{name}"),
            kind: "r".into(),
            bytes,
            columns: "id".into(),
            extension: false,
        }
    }

    fn cut(tid_ranges: bool) -> Cut<'static> {
        Cut {
            set: "app.set",
            sql_suffix: "sql.gz",
            archive_suffix: "dump.gz",
            jobs: 3,
            split_size: 100 << 20,
            tid_ranges,
            block_size: 8192,
        }
    }

    #[test]
    fn small_tables_stay_in_the_data_part_and_large_ones_are_cut() {
        let tables = [
            table("tiny", 8192),
            table("mid", 50 << 20),
            table("big", 250 << 20),
        ];
        let parts = cut(true).parts(&tables);
        let names: Vec<&str> = parts.iter().map(|p| p.object.as_str()).collect();
        assert_eq!(
            names,
            [
                "app.set/0000-pre-data.sql.gz",
                "app.set/0001-data.sql.gz",
                "app.set/0002-Odd_Schema.mid.sql.gz",
                "app.set/0003-Odd_Schema.big-1.sql.gz",
                "app.set/0004-Odd_Schema.big-2.sql.gz",
                "app.set/0005-Odd_Schema.big-3.sql.gz",
                "app.set/0006-post-data.dump.gz",
            ]
        );
        let pages = 250 * 128;
        let step = (pages as u64).div_ceil(3);
        assert_eq!(parts[3].pages, Some((0, Some(step))));
        assert_eq!(parts[4].pages, Some((step, Some(2 * step))));
        assert_eq!(parts[5].pages, Some((2 * step, None)));
        assert_eq!(parts[2].pages, None);
        assert_eq!(parts[1].expected, 8192);
    }

    #[test]
    fn without_tid_ranges_a_large_table_stays_whole() {
        let parts = cut(false).parts(&[table("big", 250 << 20)]);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[2].pages, None);
    }

    #[test]
    fn ranges_never_exceed_the_split_size_and_cover_every_page() {
        let mut c = cut(true);
        c.jobs = 2;
        let parts = c.parts(&[table("huge", 1 << 30)]);
        let ranges: Vec<(u64, Option<u64>)> = parts.iter().filter_map(|p| p.pages).collect();
        assert_eq!(ranges.len(), 11, "{ranges:?}");
        assert_eq!(ranges[0].0, 0);
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].1, Some(pair[1].0));
        }
        assert_eq!(ranges.last().unwrap().1, None);
    }
}
