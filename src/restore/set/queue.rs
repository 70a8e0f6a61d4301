//! The order of a set's load: the data parts, the largest tables first;
//! each table's indexes and constraints once its parts are in; a foreign
//! key once both its tables are in with their keys, unless another key
//! holds one of them.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::manifest::{Section, SetLayout, SetPart};
use crate::restore::post_data::ForeignKey;

/// A task of a set's load: a data part, the indexes and constraints of a
/// table whose parts are all in, or a foreign key between two tables
/// whose parts and own keys are.
#[derive(Clone, Copy)]
pub(super) enum Task<'p> {
    Part(&'p SetPart),
    Build(&'p str),
    Key(&'p ForeignKey),
}

/// The tasks waiting, how many run, how many parts of each table are still
/// to load, and the foreign keys waiting for their tables.
pub(super) struct Queue<'p> {
    pub tasks: VecDeque<Task<'p>>,
    pub running: usize,
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
    /// The next task to start: a foreign key whose tables are ready and
    /// not held by another (keys go first: checking one reads both tables
    /// whole, and the keys of one table run one after the other), else
    /// the next part or build.
    pub fn next(&mut self) -> Option<Task<'p>> {
        let startable = |key: &&ForeignKey| {
            [&key.table, &key.references]
                .iter()
                .all(|t| self.ready.contains(t.as_str()) && !self.held.contains(t.as_str()))
        };
        if let Some(i) = self.keys.iter().position(startable) {
            let key = self.keys.remove(i);
            self.held.extend(holds(key));
            return Some(Task::Key(key));
        }
        self.tasks.pop_front()
    }
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

    /// A queue of `keys` whose tables are all in.
    fn queue(keys: &[ForeignKey]) -> Queue<'_> {
        Queue {
            tasks: VecDeque::new(),
            running: 0,
            left: HashMap::new(),
            ready: ["users", "a", "b", "c"].into(),
            keys: keys.iter().collect(),
            held: HashSet::new(),
        }
    }

    /// The tables of the keys that start now, one after the other.
    fn started(q: &mut Queue) -> Vec<String> {
        std::iter::from_fn(|| q.next())
            .map(|task| match task {
                Task::Key(key) => format!("{}->{}", key.table, key.references),
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
        let mut q = queue(&keys);
        // c -> a would wait for a's validation, which holds a.
        assert_eq!(started(&mut q), ["a->users", "b->users"]);
        for table in holds(&keys[0]) {
            q.held.remove(table);
        }
        assert_eq!(started(&mut q), ["c->a"]);
    }

    #[test]
    fn keys_added_in_one_statement_hold_both_tables() {
        let keys = [key("a", "users", false), key("b", "users", false)];
        let mut q = queue(&keys);
        assert_eq!(started(&mut q), ["a->users"]);
        for table in holds(&keys[0]) {
            q.held.remove(table);
        }
        assert_eq!(started(&mut q), ["b->users"]);
    }
}
