//! A set's post-data archive cut by table: the indexes and constraints of a
//! table (primary keys, unique and exclusion constraints) are built as soon
//! as the table's parts are in, while other parts still load, as
//! `pg_restore -j` does for a whole archive; a foreign key between two
//! tables the set loads, as soon as both are in with their keys built; the
//! rest (partitioned tables' indexes and their attachments, triggers,
//! rules, ...) at the end.
//!
//! The archive's listing (`pg_restore -l`) names an index but not its
//! table, so the table is read from the archive's SQL (`pg_restore -f -`),
//! whose header before each entry repeats the listing's fields. An entry
//! whose table is not found is built at the end: early or late, an index is
//! the same index.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The listing's lines (`pg_restore -l`), split into those built with a
/// table, the foreign keys built once their two tables are, and those
/// built at the end.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PostDataPlan {
    /// Per table (quoted as SQL writes it): its indexes and constraints.
    pub early: BTreeMap<String, Vec<String>>,
    /// Foreign keys between two tables the set loads.
    pub keys: Vec<ForeignKey>,
    /// Everything else, in the listing's order.
    pub rest: Vec<String>,
}

/// A foreign key that can be built as soon as its table and the table it
/// references are loaded and have their own keys.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ForeignKey {
    /// Its listing line.
    pub line: String,
    /// The table it is on.
    pub table: String,
    /// The table it references (the same one for a self-reference).
    pub references: String,
    /// The key in two steps, when it can be: see [`Validated`].
    pub validated: Option<Validated>,
}

/// A foreign key added in two statements, each its own transaction: added
/// `NOT VALID` (at once; it holds `SHARE ROW EXCLUSIVE` on both tables for
/// that moment), then validated, which reads both tables whole holding
/// `SHARE UPDATE EXCLUSIVE` on its table and only `ROW SHARE` on the one it
/// references. So keys that reference one table are checked side by side,
/// where added in one statement each would hold both tables and wait for
/// the others. The key in the end is the same, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validated {
    /// `ALTER TABLE ONLY TABLE ADD CONSTRAINT NAME FOREIGN KEY ... NOT VALID;`
    pub add: String,
    /// `ALTER TABLE ONLY TABLE VALIDATE CONSTRAINT NAME;`
    pub validate: String,
}

/// What an entry of the script belongs to.
#[derive(Debug, PartialEq, Eq)]
enum Owner {
    /// An index or constraint of one table.
    Table(String),
    /// A foreign key of `table` referencing `references`.
    Key {
        table: String,
        references: String,
        validated: Option<Validated>,
    },
}

/// Cuts `listing` (`pg_restore -l` of the post-data archive) given `script`
/// (`pg_restore -f -` of it): the indexes and constraints of `tables` go
/// with their table, foreign keys between two of `tables` (the second with
/// indexes of its own to build, among them the key referenced) wait for
/// both, the rest goes to the end. Comment lines are dropped.
pub(crate) fn plan(listing: &str, script: &str, tables: &BTreeSet<&str>) -> PostDataPlan {
    let owners = owners_of_entries(script);
    let mut plan = PostDataPlan::default();
    let mut keys = Vec::new();
    for line in listing.lines() {
        if line.trim().is_empty() || line.starts_with(';') {
            continue;
        }
        match entry_body(line).and_then(|body| owners.get(body)) {
            Some(Owner::Table(table)) if tables.contains(table.as_str()) => plan
                .early
                .entry(table.clone())
                .or_default()
                .push(line.to_string()),
            Some(Owner::Key {
                table,
                references,
                validated,
            }) if tables.contains(table.as_str()) && tables.contains(references.as_str()) => keys
                .push(ForeignKey {
                    line: line.to_string(),
                    table: table.clone(),
                    references: references.clone(),
                    validated: validated.clone(),
                }),
            _ => plan.rest.push(line.to_string()),
        }
    }
    // A referenced table without indexes of its own here has its key
    // elsewhere (a partitioned parent's, say): such a key waits for the end.
    for key in keys {
        if plan.early.contains_key(&key.references) {
            plan.keys.push(key);
        } else {
            plan.rest.push(key.line);
        }
    }
    plan
}

/// A listing line's fields after the dump id and catalog ids:
/// `DESC SCHEMA NAME OWNER`.
fn entry_body(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once("; ")?;
    let mut words = rest.splitn(3, ' ');
    let (_catalog, _oid) = (words.next()?, words.next()?);
    words.next()
}

/// For each index, constraint and foreign key entry of the script, the
/// listing body it has (`INDEX public orders_created dbbr`) and what it
/// belongs to, as the statement writes its tables (`public.orders`).
fn owners_of_entries(script: &str) -> HashMap<String, Owner> {
    let mut out = HashMap::new();
    let mut lines = script.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(header) = line.strip_prefix("-- Name: ") else {
            continue;
        };
        let Some((body, desc)) = header_body(header) else {
            continue;
        };
        if !matches!(desc, "CONSTRAINT" | "INDEX" | "FK CONSTRAINT") {
            continue;
        }
        // The statement: the first line that is not a comment, a blank or
        // a setting (`SET default_tablespace = ...`).
        let statement = lines
            .by_ref()
            .map(str::trim_start)
            .find(|l| !l.is_empty() && !l.starts_with("--") && !l.starts_with("SET "));
        let owner = match (desc, statement) {
            ("CONSTRAINT", Some(s)) => constraint_table(s).map(|t| Owner::Table(t.into())),
            ("INDEX", Some(s)) => index_table(s).map(|t| Owner::Table(t.into())),
            ("FK CONSTRAINT", Some(s)) => {
                let added = lines.next().map(str::trim_start);
                key_tables(s, added).map(|(table, references)| Owner::Key {
                    table: table.into(),
                    references: references.into(),
                    validated: added.and_then(|added| validated(table, added)),
                })
            }
            _ => None,
        };
        if let Some(owner) = owner {
            out.insert(body, owner);
        }
    }
    out
}

/// `NAME; Type: DESC; Schema: SCHEMA; Owner: OWNER[; Tablespace: ...]` as
/// the listing writes it (`DESC SCHEMA NAME OWNER`), and DESC.
fn header_body(header: &str) -> Option<(String, &str)> {
    let (name, rest) = header.split_once("; Type: ")?;
    let (desc, rest) = rest.split_once("; Schema: ")?;
    let (schema, rest) = rest.split_once("; Owner: ")?;
    let owner = rest.split_once("; ").map_or(rest, |(owner, _)| owner);
    Some((format!("{desc} {schema} {name} {owner}"), desc))
}

/// The table of `ALTER TABLE [ONLY] TABLE` (a constraint's first line).
fn constraint_table(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("ALTER TABLE ")?;
    let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
    let (table, tail) = qualified_name(rest)?;
    tail.trim().is_empty().then_some(table)
}

/// The table and referenced table of a foreign key on one table:
/// `ALTER TABLE ONLY TABLE` then `ADD CONSTRAINT NAME FOREIGN KEY (COLUMNS)
/// REFERENCES TABLE(COLUMNS) ...` (a partitioned table's key, without
/// `ONLY`, is none: it is built at the end).
fn key_tables<'s>(first: &'s str, second: Option<&'s str>) -> Option<(&'s str, &'s str)> {
    let rest = first.strip_prefix("ALTER TABLE ONLY ")?;
    let (table, tail) = qualified_name(rest)?;
    if !tail.trim().is_empty() {
        return None;
    }
    let rest = second?.strip_prefix("ADD CONSTRAINT ")?;
    let (_, rest) = identifier(rest)?;
    let mut rest = rest.strip_prefix(" FOREIGN KEY (")?;
    // The key's columns, quoted or not, up to the closing parenthesis.
    loop {
        let (_, after) = identifier(rest)?;
        if let Some(after) = after.strip_prefix(", ") {
            rest = after;
            continue;
        }
        rest = after.strip_prefix(")")?;
        break;
    }
    let (references, tail) = qualified_name(rest.strip_prefix(" REFERENCES ")?)?;
    tail.starts_with('(').then_some((table, references))
}

/// The key `ADD CONSTRAINT NAME FOREIGN KEY ...;` of `table` in two steps
/// (see [`Validated`]); none for a key that is not valid in the dump (it
/// stays so) or not enforced (it cannot be validated).
fn validated(table: &str, added: &str) -> Option<Validated> {
    let definition = added.strip_suffix(';')?;
    if definition.ends_with(" NOT VALID") || definition.contains(" NOT ENFORCED") {
        return None;
    }
    let (name, _) = identifier(added.strip_prefix("ADD CONSTRAINT ")?)?;
    Some(Validated {
        add: format!("ALTER TABLE ONLY {table} {definition} NOT VALID;"),
        validate: format!("ALTER TABLE ONLY {table} VALIDATE CONSTRAINT {name};"),
    })
}

/// The table of `CREATE [UNIQUE] INDEX NAME ON TABLE USING ...`; none for
/// `ON ONLY` (a partitioned table's own index, attached at the end).
fn index_table(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("CREATE INDEX ")
        .or_else(|| line.strip_prefix("CREATE UNIQUE INDEX "))?;
    let (_, rest) = identifier(rest)?;
    let rest = rest.strip_prefix(" ON ")?;
    let (table, tail) = qualified_name(rest)?;
    tail.starts_with(" USING ").then_some(table)
}

/// `schema.name` at the start of `s` (either part quoted or not) and what
/// follows it.
fn qualified_name(s: &str) -> Option<(&str, &str)> {
    let (schema, rest) = identifier(s)?;
    let rest = rest.strip_prefix('.')?;
    let (name, rest) = identifier(rest)?;
    Some((&s[..schema.len() + 1 + name.len()], rest))
}

/// One identifier at the start of `s`, as written (`"a ""b"""` or `abc`),
/// and what follows it.
fn identifier(s: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = s.strip_prefix('"') {
        let mut chars = quoted.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '"' {
                continue;
            }
            if chars.peek().is_some_and(|(_, next)| *next == '"') {
                chars.next();
                continue;
            }
            let end = 1 + i + 1;
            return Some((&s[..end], &s[end..]));
        }
        return None;
    }
    let end = s.find(['.', ' ', '(', ')', ',', ';']).unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\
;
; Archive created at 2026-12-06 21:00:00 UTC
;
3390; 0 0 ENCODING - ENCODING
3231; 2606 19168 CONSTRAINT public c c_pkey dbbr
3220; 2606 19154 CONSTRAINT public events events_pkey dbbr
3223; 2606 19156 CONSTRAINT public events_low events_low_pkey dbbr
3229; 1259 19174 INDEX public c_p dbbr
3218; 1259 19150 INDEX public events_k_idx dbbr
3221; 1259 19151 INDEX public events_low_k_idx dbbr
3232; 1259 19178 INDEX Odd S odd ON x dbbr
3240; 2606 19180 CONSTRAINT Odd S Odd T odd_pk dbbr
3233; 0 0 INDEX ATTACH public events_low_k_idx dbbr
3237; 2606 19169 FK CONSTRAINT public c c_p_fkey dbbr
3238; 1259 19190 INDEX public elsewhere dbbr
3241; 2606 19191 FK CONSTRAINT public c c_self dbbr
3242; 2606 19192 FK CONSTRAINT Odd S Odd T odd_c dbbr
3243; 2606 19193 FK CONSTRAINT public events_low el_c dbbr
";

    const SCRIPT: &str = r#"--
-- Name: c c_pkey; Type: CONSTRAINT; Schema: public; Owner: dbbr
--

ALTER TABLE ONLY public.c
    ADD CONSTRAINT c_pkey PRIMARY KEY (id);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: dbbr
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id, k);

--
-- Name: events_low events_low_pkey; Type: CONSTRAINT; Schema: public; Owner: dbbr
--

ALTER TABLE ONLY public.events_low
    ADD CONSTRAINT events_low_pkey PRIMARY KEY (id, k);

--
-- Name: c_p; Type: INDEX; Schema: public; Owner: dbbr; Tablespace: fast
--

SET default_tablespace = fast;

CREATE INDEX c_p ON public.c USING btree (p);

--
-- Name: events_k_idx; Type: INDEX; Schema: public; Owner: dbbr
--

CREATE INDEX events_k_idx ON ONLY public.events USING btree (k);

--
-- Name: events_low_k_idx; Type: INDEX; Schema: public; Owner: dbbr
--

CREATE INDEX events_low_k_idx ON public.events_low USING btree (k);

--
-- Name: odd ON x; Type: INDEX; Schema: Odd S; Owner: dbbr
--

CREATE UNIQUE INDEX "odd ON x" ON "Odd S"."Odd T" USING btree (id);

--
-- Name: Odd T odd_pk; Type: CONSTRAINT; Schema: Odd S; Owner: dbbr
--

ALTER TABLE ONLY "Odd S"."Odd T"
    ADD CONSTRAINT odd_pk PRIMARY KEY (id);

--
-- Name: events_low_k_idx; Type: INDEX ATTACH; Schema: public; Owner: dbbr
--

ALTER INDEX public.events_k_idx ATTACH PARTITION public.events_low_k_idx;

--
-- Name: c c_p_fkey; Type: FK CONSTRAINT; Schema: public; Owner: dbbr
--

ALTER TABLE ONLY public.c
    ADD CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES public.p(id);

--
-- Name: elsewhere; Type: INDEX; Schema: public; Owner: dbbr
--

CREATE INDEX elsewhere ON public."not in the set" USING btree (id);

--
-- Name: c c_self; Type: FK CONSTRAINT; Schema: public; Owner: dbbr
--

ALTER TABLE ONLY public.c
    ADD CONSTRAINT c_self FOREIGN KEY (parent) REFERENCES public.c(id);

--
-- Name: Odd T odd_c; Type: FK CONSTRAINT; Schema: Odd S; Owner: dbbr
--

ALTER TABLE ONLY "Odd S"."Odd T"
    ADD CONSTRAINT odd_c FOREIGN KEY ("a, ) REFERENCES x", b) REFERENCES public.c(id, p) ON DELETE CASCADE;

--
-- Name: events_low el_c; Type: FK CONSTRAINT; Schema: public; Owner: dbbr
--

ALTER TABLE ONLY public.events_low
    ADD CONSTRAINT el_c FOREIGN KEY (k) REFERENCES public.events(k);
"#;

    #[test]
    fn a_tables_indexes_and_constraints_go_with_it_and_the_rest_to_the_end() {
        let tables = BTreeSet::from(["public.c", "public.events_low", "\"Odd S\".\"Odd T\""]);
        let plan = plan(LISTING, SCRIPT, &tables);
        let ids = |lines: &[String]| -> Vec<String> {
            lines
                .iter()
                .map(|l| l.split(';').next().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids(&plan.early["public.c"]), ["3231", "3229"]);
        assert_eq!(ids(&plan.early["public.events_low"]), ["3223", "3221"]);
        assert_eq!(ids(&plan.early["\"Odd S\".\"Odd T\""]), ["3232", "3240"]);
        assert_eq!(plan.early.len(), 3);
        // Foreign keys between two loaded tables wait for both.
        let keys: Vec<_> = plan
            .keys
            .iter()
            .map(|k| (&k.line[..4], k.table.as_str(), k.references.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("3241", "public.c", "public.c"),
                ("3242", "\"Odd S\".\"Odd T\"", "public.c"),
            ]
        );
        // The partitioned table's own constraint and index (no parts), the
        // attachment, a foreign key to a table the set does not load, an
        // index on a table it does not load, the encoding, and a key to
        // the partitioned table.
        assert_eq!(
            ids(&plan.rest),
            ["3390", "3220", "3218", "3233", "3237", "3238", "3243"]
        );
    }

    #[test]
    fn keys_are_added_not_valid_then_validated() {
        let tables = BTreeSet::from(["public.c", "\"Odd S\".\"Odd T\""]);
        let plan = plan(LISTING, SCRIPT, &tables);
        let steps: Vec<_> = plan
            .keys
            .iter()
            .map(|k| k.validated.clone().unwrap())
            .collect();
        assert_eq!(
            steps,
            [
                Validated {
                    add: "ALTER TABLE ONLY public.c ADD CONSTRAINT c_self FOREIGN KEY (parent) \
                          REFERENCES public.c(id) NOT VALID;"
                        .into(),
                    validate: "ALTER TABLE ONLY public.c VALIDATE CONSTRAINT c_self;".into(),
                },
                Validated {
                    add: "ALTER TABLE ONLY \"Odd S\".\"Odd T\" ADD CONSTRAINT odd_c FOREIGN KEY \
                          (\"a, ) REFERENCES x\", b) REFERENCES public.c(id, p) ON DELETE CASCADE \
                          NOT VALID;"
                        .into(),
                    validate: "ALTER TABLE ONLY \"Odd S\".\"Odd T\" VALIDATE CONSTRAINT odd_c;"
                        .into(),
                },
            ]
        );
        let two = |added| validated("s.t", added).map(|v| (v.add, v.validate));
        assert_eq!(
            two(r#"ADD CONSTRAINT "k ""x""" FOREIGN KEY (a) REFERENCES s.u(a) DEFERRABLE;"#),
            Some((
                r#"ALTER TABLE ONLY s.t ADD CONSTRAINT "k ""x""" FOREIGN KEY (a) REFERENCES s.u(a) DEFERRABLE NOT VALID;"#
                    .into(),
                r#"ALTER TABLE ONLY s.t VALIDATE CONSTRAINT "k ""x""";"#.into()
            ))
        );
        // Not valid in the dump: it stays so, added as the dump has it.
        let not_valid = "ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES s.u(a) NOT VALID;";
        assert_eq!(two(not_valid), None);
        let not_enforced = "ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES s.u(a) NOT ENFORCED;";
        assert_eq!(two(not_enforced), None);
        assert_eq!(
            two("ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES s.u(a)"),
            None
        );
    }

    #[test]
    fn identifiers_are_read_as_written() {
        assert_eq!(
            qualified_name(r#""a ""b"".c".d USING"#),
            Some((r#""a ""b"".c".d"#, " USING"))
        );
        assert_eq!(qualified_name("s.t"), Some(("s.t", "")));
        assert_eq!(qualified_name("t USING"), None);
        assert_eq!(qualified_name(r#""open.t"#), None);
        assert_eq!(
            index_table("CREATE INDEX i ON ONLY s.t USING btree (a)"),
            None
        );
        assert_eq!(
            index_table("CREATE UNIQUE INDEX i ON s.t USING btree (a)"),
            Some("s.t")
        );
        assert_eq!(constraint_table("ALTER TABLE ONLY s.t"), Some("s.t"));
        assert_eq!(constraint_table("ALTER TABLE ONLY s.t ADD x"), None);
        let key = |second| key_tables("ALTER TABLE ONLY s.t", Some(second));
        assert_eq!(
            key("ADD CONSTRAINT k FOREIGN KEY (a, b) REFERENCES s.u(a, b);"),
            Some(("s.t", "s.u"))
        );
        assert_eq!(
            key(r#"ADD CONSTRAINT "k x" FOREIGN KEY ("a"")", b) REFERENCES "s"."u u"(a);"#),
            Some(("s.t", r#""s"."u u""#))
        );
        assert_eq!(key("ADD CONSTRAINT k CHECK (a > 0);"), None);
        assert_eq!(
            key_tables(
                "ALTER TABLE s.p",
                Some("ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES s.u(a);")
            ),
            None
        );
    }
}
