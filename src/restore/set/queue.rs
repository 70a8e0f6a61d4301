//! The order of a set's load: the data parts, the largest tables first;
//! each table's indexes and constraints once its parts are in; a foreign
//! key once both its tables are in with their keys, unless another key
//! holds one of them.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::manifest::{Section, SetLayout, SetPart};
use crate::restore::post_data::ForeignKey;

/// The most tables (or foreign keys) one client builds: a client costs a
/// start, a connection and a read of the archive, so that the many small
/// tables of a set are built a batch at a time; a batch is smaller where
/// that leaves a worker idle ([`batch_size`]).
const MOST_PER_BATCH: usize = 100;

/// A task of a set's load: a data part, the indexes and constraints of
/// tables whose parts are all in, or foreign keys between tables whose
/// parts and own keys are (one client each, one after the other).
pub(super) enum Task<'p> {
    Part(&'p SetPart),
    Build(Vec<&'p str>),
    Keys(Vec<&'p ForeignKey>),
}

/// The tasks waiting, how many run, how many parts of each table are still
/// to load, and the foreign keys waiting for their tables.
pub(super) struct Queue<'p> {
    pub tasks: VecDeque<Task<'p>>,
    pub running: usize,
    /// How many tasks run at once.
    pub jobs: usize,
    pub left: HashMap<&'p str, usize>,
    /// Tables loaded, with their indexes and constraints built.
    pub ready: HashSet<&'p str>,
    /// Foreign keys not started, in the listing's order.
    pub keys: Vec<&'p ForeignKey>,
    /// Tables a running foreign key holds against another key's: a key
    /// validated in two steps, its own table (`SHARE UPDATE EXCLUSIVE`,
    /// the table it references only `ROW SHARE`, which other keys' steps
    /// do not wait for); a key added in one statement, both (`SHARE ROW
    /// EXCLUSIVE`). A key on a held table stays queued rather than hold a
    /// worker waiting for the lock.
    pub held: HashSet<&'p str>,
}

impl<'p> Queue<'p> {
    /// The next task to start: the foreign keys whose tables are ready and
    /// not held by another task, a batch of them (keys go first: checking
    /// one reads both tables whole, and the keys of one table run one
    /// after the other; a batch's keys run one after the other in one
    /// session, so that they do not wait for each other), else the next
    /// part or build.
    pub fn next(&mut self) -> Option<Task<'p>> {
        let startable: Vec<usize> = (0..self.keys.len())
            .filter(|&i| {
                let key = self.keys[i];
                [&key.table, &key.references]
                    .iter()
                    .all(|t| self.ready.contains(t.as_str()) && !self.held.contains(t.as_str()))
            })
            .collect();
        if !startable.is_empty() {
            let take = batch_size(startable.len(), self.jobs);
            // Removed from the last, so that the indexes before stay valid.
            let mut batch: Vec<&ForeignKey> = startable[..take]
                .iter()
                .rev()
                .map(|&i| self.keys.remove(i))
                .collect();
            batch.reverse();
            for key in &batch {
                self.held.extend(holds(key));
            }
            return Some(Task::Keys(batch));
        }
        self.tasks.pop_front()
    }
}

/// How many of `n` tasks ready at once one client takes when `jobs` run
/// at once: one each while there are no more than workers, else an even
/// share, [`MOST_PER_BATCH`] at most.
pub(super) fn batch_size(n: usize, jobs: usize) -> usize {
    if n <= jobs {
        1
    } else {
        n.div_ceil(jobs.max(1)).min(MOST_PER_BATCH)
    }
}

/// `tables` (each with its weight: rows) cut into as many batches as
/// [`batch_size`] makes of them, the heaviest first, each to the lightest
/// batch, so that the batches take about as long.
pub(super) fn batches(mut tables: Vec<(&str, u64)>, jobs: usize) -> Vec<Vec<&str>> {
    if tables.is_empty() {
        return Vec::new();
    }
    let count = tables.len().div_ceil(batch_size(tables.len(), jobs));
    tables.sort_by_key(|&(_, weight)| std::cmp::Reverse(weight));
    let mut batches: Vec<(u64, Vec<&str>)> = vec![(0, Vec::new()); count];
    for (table, weight) in tables {
        let lightest = batches
            .iter_mut()
            .min_by_key(|(load, _)| *load)
            .expect("at least one batch");
        lightest.0 += weight + 1;
        lightest.1.push(table);
    }
    batches.into_iter().map(|(_, batch)| batch).collect()
}

/// The tables a running foreign key holds against other keys (see
/// [`Queue::held`]).
pub(super) fn holds(key: &ForeignKey) -> Vec<&str> {
    match key.validated {
        Some(_) => vec![key.table.as_str()],
        None => vec![key.table.as_str(), key.references.as_str()],
    }
}

/// The tables a data part loads: its table, or those its rows count.
pub(super) fn tables_of(part: &SetPart) -> Vec<&str> {
    match &part.table {
        Some(table) => vec![table.as_str()],
        None => part.rows.keys().map(String::as_str).collect(),
    }
}

/// What building `table`'s indexes after `part` is weighed by: its rows
/// in the part (for a table cut into ranges, the last range's).
pub(super) fn weight(part: &SetPart, table: &str) -> u64 {
    part.rows.get(table).copied().unwrap_or(0)
}

/// The data and table parts, the largest tables first (a table's ranges in
/// their order), so that their indexes are built while the smaller ones
/// load.
pub(super) fn load_order(layout: &SetLayout) -> Vec<&SetPart> {
    let data: Vec<&SetPart> = layout
        .parts
        .iter()
        .filter(|p| matches!(p.section, Section::Data | Section::Table))
        .collect();
    let mut size: HashMap<&str, u64> = HashMap::new();
    for part in &data {
        *size.entry(group(part)).or_default() += part.raw_bytes;
    }
    let mut ordered = data.clone();
    ordered.sort_by_key(|p| std::cmp::Reverse(size[group(p)]));
    ordered
}

/// What a part is counted with when ordering: its table, or itself.
fn group(part: &SetPart) -> &str {
    part.table.as_deref().unwrap_or(&part.object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::post_data::Validated;

    /// A key of `table` referencing `references`, added in two steps or
    /// in one statement.
    fn key(table: &str, references: &str, two_steps: bool) -> ForeignKey {
        ForeignKey {
            line: format!("1; 2606 1 FK CONSTRAINT public {table} k"),
            table: table.into(),
            references: references.into(),
            validated: two_steps.then(|| Validated {
                add: String::new(),
                validate: String::new(),
            }),
        }
    }

    /// A queue of `keys` whose tables are all in, run by `jobs` workers.
    fn queue(keys: &[ForeignKey], jobs: usize) -> Queue<'_> {
        Queue {
            tasks: VecDeque::new(),
            running: 0,
            jobs,
            left: HashMap::new(),
            ready: ["users", "a", "b", "c"].into(),
            keys: keys.iter().collect(),
            held: HashSet::new(),
        }
    }

    /// The batches of keys that start now, one after the other, each as
    /// the tables of its keys.
    fn started(q: &mut Queue) -> Vec<Vec<String>> {
        std::iter::from_fn(|| q.next())
            .map(|task| match task {
                Task::Keys(keys) => keys
                    .iter()
                    .map(|key| format!("{}->{}", key.table, key.references))
                    .collect(),
                _ => unreachable!("only keys are queued"),
            })
            .collect()
    }

    #[test]
    fn keys_validated_in_two_steps_that_reference_one_table_start_together() {
        let keys = [
            key("a", "users", true),
            key("b", "users", true),
            key("c", "a", true),
        ];
        let mut q = queue(&keys, 3);
        // c -> a would wait for a's validation, which holds a.
        assert_eq!(started(&mut q), [["a->users"], ["b->users"]]);
        for table in holds(&keys[0]) {
            q.held.remove(table);
        }
        assert_eq!(started(&mut q), [["c->a"]]);
    }

    #[test]
    fn keys_added_in_one_statement_hold_both_tables() {
        let keys = [key("a", "users", false), key("b", "users", false)];
        let mut q = queue(&keys, 2);
        assert_eq!(started(&mut q), [["a->users"]]);
        for table in holds(&keys[0]) {
            q.held.remove(table);
        }
        assert_eq!(started(&mut q), [["b->users"]]);
    }

    #[test]
    fn more_keys_than_workers_start_in_shares() {
        let keys = [
            key("a", "users", true),
            key("x", "users", true),
            key("b", "users", true),
            key("c", "users", true),
        ];
        let mut q = queue(&keys, 2);
        // x is not in yet; two of the three others for the first worker,
        // and c's table is free, so it starts too.
        assert_eq!(
            started(&mut q),
            [vec!["a->users", "b->users"], vec!["c->users"]]
        );
        assert_eq!(q.keys.len(), 1);
        assert_eq!(q.keys[0].table, "x");
    }

    #[test]
    fn batches_are_one_table_each_up_to_the_workers_and_shares_beyond() {
        let names: Vec<String> = (0..250).map(|i| format!("t{i}")).collect();
        let tables = |n: usize| names[..n].iter().map(|t| (t.as_str(), 10)).collect();
        assert_eq!(batches(tables(2), 2), [["t0"], ["t1"]]);
        assert_eq!(batches(tables(5), 2).len(), 2);
        let many = batches(tables(250), 2);
        assert_eq!(many.len(), 3);
        assert!(many.iter().all(|b| b.len() <= 100), "{many:?}");
        assert_eq!(many.iter().map(Vec::len).sum::<usize>(), 250);
        assert!(batches(Vec::new(), 2).is_empty());
    }

    #[test]
    fn a_heavy_table_gets_a_batch_of_its_own() {
        let tables = vec![
            ("small1", 1),
            ("big", 1_000_000),
            ("small2", 1),
            ("small3", 1),
        ];
        assert_eq!(
            batches(tables, 2),
            [vec!["big"], vec!["small1", "small2", "small3"]]
        );
    }
}
