//! The databases a case reads and changes, on either engine: whether one
//! exists and what its tables hold, restore targets, and waiting until no
//! session (a client left running by a killed dbbr) works on one.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::wait_until;
use crate::common::{mariadb, pg};

use super::plan::Engine;

/// Per table: a fingerprint of its rows.
pub type Sums = BTreeMap<String, String>;

/// What a database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbState {
    /// It does not exist.
    Absent,
    /// It exists with these tables (none: empty).
    Tables(Sums),
}

impl DbState {
    /// One line for a report: `absent`, `empty`, or each table's rows.
    pub fn describe(&self) -> String {
        match self {
            DbState::Absent => "absent".into(),
            DbState::Tables(t) if t.is_empty() => "empty".into(),
            DbState::Tables(t) => t
                .iter()
                .map(|(k, v)| format!("{k}={}", v.split(':').next().unwrap_or(v)))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Runs `sql` as the servers' administrator: in database `db` on
/// PostgreSQL; on MariaDB, `USE db` first when `db` is not empty.
pub fn admin(engine: Engine, db: &str, sql: &str) -> String {
    match engine {
        Engine::Pg => pg::Server::shared().psql(if db.is_empty() { "postgres" } else { db }, sql),
        Engine::Maria => {
            let using = if db.is_empty() {
                String::new()
            } else {
                format!("USE `{db}`;\n")
            };
            mariadb::Server::shared().sql(&format!("{using}{sql}"))
        }
    }
}

/// Whether database `db` exists.
pub fn exists(engine: Engine, db: &str) -> bool {
    let n = match engine {
        Engine::Pg => admin(
            engine,
            "",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{db}'"),
        ),
        Engine::Maria => admin(
            engine,
            "",
            &format!(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{db}';"
            ),
        ),
    };
    n.trim() == "1"
}

/// What `db` holds now.
pub fn state(engine: Engine, db: &str) -> DbState {
    if !exists(engine, db) {
        return DbState::Absent;
    }
    DbState::Tables(match engine {
        Engine::Pg => pg::Server::shared().checksums(db),
        Engine::Maria => maria_sums(db),
    })
}

/// Row count and `CHECKSUM TABLE` of each base table of `db`.
fn maria_sums(db: &str) -> Sums {
    let tables = admin(
        Engine::Maria,
        "",
        &format!(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = '{db}' AND table_type = 'BASE TABLE' ORDER BY table_name;"
        ),
    );
    let mut sums = Sums::new();
    for table in tables.lines().filter(|t| !t.is_empty()) {
        let count = admin(
            Engine::Maria,
            "",
            &format!("SELECT COUNT(*) FROM `{db}`.`{table}`;"),
        );
        let sum = admin(
            Engine::Maria,
            "",
            &format!("CHECKSUM TABLE `{db}`.`{table}`;"),
        );
        let sum = sum.split('\t').nth(1).unwrap_or("").trim().to_string();
        sums.insert(table.to_string(), format!("{}:{sum}", count.trim()));
    }
    sums
}

/// Creates `db` empty, or with a table `keepme` of its own.
pub fn create_target(engine: Engine, db: &str, occupied: bool) {
    match engine {
        Engine::Pg => {
            pg::Server::shared().create_database(db);
            if occupied {
                admin(
                    engine,
                    db,
                    "CREATE TABLE keepme (id int PRIMARY KEY, v text); \
                     INSERT INTO keepme SELECT g, 'mine ' || g FROM generate_series(1, 50) g;",
                );
            }
        }
        Engine::Maria => {
            admin(engine, "", &format!("CREATE DATABASE `{db}`;"));
            if occupied {
                admin(
                    engine,
                    db,
                    "CREATE TABLE keepme (id INT PRIMARY KEY, v TEXT); \
                     INSERT INTO keepme SELECT seq, CONCAT('mine ', seq) FROM seq_1_to_50;",
                );
            }
        }
    }
}

/// Drops `db` if it exists, with its sessions.
pub fn drop_db(engine: Engine, db: &str) {
    match engine {
        Engine::Pg => {
            admin(
                engine,
                "",
                &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
            );
        }
        Engine::Maria => {
            for id in sessions(engine, db) {
                let _ = crate::common::feed(
                    &mut mariadb::Server::shared().client(),
                    format!("KILL {id};").as_bytes(),
                );
            }
            admin(engine, "", &format!("DROP DATABASE IF EXISTS `{db}`;"));
        }
    }
}

/// The ids of the sessions working in `db` (other than the asking one).
pub fn sessions(engine: Engine, db: &str) -> Vec<String> {
    let ids = match engine {
        Engine::Pg => admin(
            engine,
            "",
            &format!(
                "SELECT pid FROM pg_stat_activity WHERE datname = '{db}' \
                 AND pid <> pg_backend_pid()"
            ),
        ),
        Engine::Maria => admin(
            engine,
            "",
            &format!(
                "SELECT id FROM information_schema.processlist WHERE db = '{db}' \
                 AND id <> CONNECTION_ID();"
            ),
        ),
    };
    ids.lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Waits up to `limit` until no session works in `db`; whether none does.
pub fn wait_idle(engine: Engine, db: &str, limit: Duration) -> bool {
    wait_until(limit, || sessions(engine, db).is_empty())
}
