//! A restore is all or nothing whatever happens to dbbr: killed (SIGKILL,
//! as an out-of-memory kill or a node drain does), stopped (SIGTERM), or its
//! client killed. Each test runs its own server, so that the databases a
//! killed restore leaves can be looked at without other tests' ones.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

/// Rows of the large table: enough that the restore is still streaming
/// when the test strikes.
const ROWS: u64 = 2_000_000;

mod postgres {
    use std::os::unix::process::ExitStatusExt;

    use super::*;
    use crate::common::pg::{Cluster, Server, SLOW_INDEX_SQL};

    /// A cluster with database `src` (a large table and a small one) backed
    /// up into `dir`.
    fn backed_up(dir: &Path) -> Cluster {
        let cluster = Cluster::start();
        let s = &cluster.server;
        s.create_database("src");
        s.psql(
            "src",
            &format!(
                "CREATE TABLE small (id int PRIMARY KEY, v text); INSERT INTO small VALUES (1, 'a');
                 CREATE TABLE big (id int PRIMARY KEY, v text);
                 INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) g;
                 SELECT lo_from_bytea(0, 'large object');"
            ),
        );
        let mut cmd = dbbr();
        s.env(&mut cmd)
            .env("REMOTE_NAME", local_remote(dir))
            .env("BACKUP_DATABASES", "src")
            .env("COMPRESSION", "none")
            .args(["backup", "postgresql"]);
        succeed(&mut cmd);
        cluster
    }

    fn restore(s: &Server, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = dbbr();
        s.env(&mut cmd)
            .env("REMOTE_NAME", local_remote(dir))
            .args(["restore", "--latest", "src"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn tables(s: &Server, db: &str) -> String {
        s.psql(
            db,
            "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
        )
    }

    /// Starts a restore and waits until its client is copying rows.
    fn started_copying(s: &Server, cmd: &mut Command) -> (std::process::Child, u32) {
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        let copying = wait_until(Duration::from_secs(60), || {
            s.psql(
                "postgres",
                "SELECT count(*) FROM pg_stat_progress_copy WHERE tuples_processed > 0",
            ) != "0"
        });
        assert!(copying, "the restore never started copying");
        let psql = child_named(pid, "psql").expect("the restore's psql");
        (child, psql)
    }

    #[test]
    fn killed_mid_restore_leaves_the_target_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = backed_up(tmp.path());
        let s = &cluster.server;
        // Into an existing empty database: nothing is committed.
        s.create_database("target");
        let (mut child, psql) =
            started_copying(s, &mut restore(s, tmp.path(), &["--to", "target"]));
        signal(child.id(), "KILL");
        child.wait().unwrap();
        assert!(gone(psql), "psql outlived dbbr");
        assert_eq!(
            tables(s, "target"),
            "0",
            "a killed restore committed tables"
        );
        assert_eq!(
            s.psql("target", "SELECT count(*) FROM pg_largeobject_metadata"),
            "0"
        );
        // Into a new database: the target never appears.
        let before = s.databases();
        let (mut child, psql) = started_copying(
            s,
            &mut restore(s, tmp.path(), &["--to", "fresh", "--create"]),
        );
        signal(child.id(), "KILL");
        child.wait().unwrap();
        assert!(gone(psql), "psql outlived dbbr");
        let after = s.databases();
        assert!(!after.contains(&"fresh".to_string()), "{after:?}");
        // What is left is dbbr's own staging database, empty, by its name.
        for db in after.iter().filter(|d| !before.contains(d)) {
            assert!(db.starts_with("dbbr_restore_"), "{db}");
            assert_eq!(tables(s, db), "0", "{db}");
        }
        // The same restore, undisturbed, works.
        let out = restore(s, tmp.path(), &["--to", "target"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(s.checksums("target"), s.checksums("src"));
        assert_eq!(
            s.psql("target", "SELECT count(*) FROM pg_largeobject_metadata"),
            "1"
        );
    }

    /// SIGKILL while the server builds an index for the restore (its
    /// `psql` waits for the statement, not for input): the client ends
    /// with dbbr, and the statement within seconds, though it would run
    /// for a minute; nothing is committed.
    #[test]
    fn killed_mid_statement_stops_the_statement() {
        let out = struck_mid_statement("KILL");
        assert_eq!(out.status.signal(), Some(9));
    }

    /// SIGTERM there, once dbbr has written the whole script (the build
    /// is the last statement before its `COMMIT`) and waits for the
    /// client: dbbr stops within seconds, and so does the statement;
    /// nothing is committed.
    #[test]
    fn stopped_mid_statement_stops_within_seconds() {
        let clock = std::time::Instant::now();
        let out = struck_mid_statement("TERM");
        assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("interrupted by SIGTERM"),
            "{}",
            stderr(&out)
        );
        // The build alone takes a minute.
        assert!(
            clock.elapsed() < Duration::from_secs(50),
            "{:?}",
            clock.elapsed()
        );
    }

    /// Restores a table whose index build takes a minute into an existing
    /// database, sends `sig` to dbbr while the build runs, and checks that
    /// dbbr, its client and the statement end within seconds with nothing
    /// committed; dbbr's output.
    fn struck_mid_statement(sig: &str) -> std::process::Output {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = Cluster::start();
        let s = &cluster.server;
        s.create_database("src");
        s.psql("src", SLOW_INDEX_SQL);
        let mut cmd = dbbr();
        s.env(&mut cmd)
            .env("REMOTE_NAME", local_remote(tmp.path()))
            .env("BACKUP_DATABASES", "src")
            .args(["backup", "postgresql"]);
        succeed(&mut cmd);
        // The build is slow in the target only.
        s.create_database("target");
        s.slow_builds("target");
        let child = restore(s, tmp.path(), &["--to", "target"]).spawn().unwrap();
        let sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'target' \
                        AND pid <> pg_backend_pid()";
        let building = format!("{sessions} AND query LIKE 'CREATE INDEX t_slow%'");
        assert!(
            wait_until(Duration::from_secs(60), || s.psql("postgres", &building)
                == "1"),
            "the index build never started"
        );
        let psql = child_named(child.id(), "psql").expect("the restore's psql");
        let clock = std::time::Instant::now();
        signal(child.id(), sig);
        let out = wait_at_most(child, Duration::from_secs(60));
        assert!(
            clock.elapsed() < Duration::from_secs(5),
            "dbbr took {:?} to end on SIG{sig}: {}",
            clock.elapsed(),
            stderr(&out)
        );
        assert!(gone(psql), "psql outlived dbbr");
        assert!(
            wait_until(Duration::from_secs(5), || s.psql("postgres", sessions)
                == "0"),
            "the restore's statement outlived dbbr"
        );
        assert_eq!(
            tables(s, "target"),
            "0",
            "a stopped restore committed tables"
        );
        out
    }

    #[test]
    fn stopped_or_client_killed_mid_restore_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = backed_up(tmp.path());
        let s = &cluster.server;
        let before = s.databases();
        // SIGTERM: stopped within seconds, the database it made is dropped.
        let (child, _) = started_copying(
            s,
            &mut restore(s, tmp.path(), &["--to", "fresh", "--create"]),
        );
        let clock = std::time::Instant::now();
        signal(child.id(), "TERM");
        let out = wait_at_most(child, Duration::from_secs(20));
        assert!(
            clock.elapsed() < Duration::from_secs(5),
            "{:?}",
            clock.elapsed()
        );
        assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
        assert_eq!(s.databases(), before, "{}", stderr(&out));
        // The client killed: the restore fails, nothing is left.
        s.create_database("target");
        let (child, psql) = started_copying(s, &mut restore(s, tmp.path(), &["--to", "target"]));
        signal(psql, "KILL");
        let out = wait_at_most(child, Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("failed at client"),
            "{}",
            stderr(&out)
        );
        assert_eq!(tables(s, "target"), "0");
    }

    /// A `psql` that dies as if killed (SIGKILL) once its input has ended,
    /// whether or not what it ran committed, when the shell test `when`
    /// holds; other psql runs are left alone. The restore's client is the
    /// one started `-X` (dbbr's queries start with `-XAtqw`).
    fn dying_psql(dir: &Path, when: &str) -> String {
        wrapped_psql(dir, when, "kill -9 $$")
    }

    /// A `psql` that, when the shell test `when` holds, runs and then does
    /// `then` (as its own shell); in `dir`'s `bin`, the `PATH` with it.
    fn wrapped_psql(dir: &Path, when: &str, then: &str) -> String {
        let real = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .map(|d| Path::new(d).join("psql"))
            .find(|p| p.is_file())
            .expect("psql on PATH");
        let bin = dir.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let script = bin.join("psql");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nif {when}; then '{}' \"$@\"; {then}; fi\nexec '{}' \"$@\"\n",
                real.display(),
                real.display()
            ),
        )
        .unwrap();
        let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&script, executable).unwrap();
        path_with(&bin)
    }

    /// A cluster with a small database `src` backed up into `dir`.
    fn small_backed_up(dir: &Path) -> Cluster {
        let cluster = Cluster::start();
        let s = &cluster.server;
        s.create_database("src");
        s.psql(
            "src",
            "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000);",
        );
        let mut backup = dbbr();
        s.env(&mut backup)
            .env("REMOTE_NAME", local_remote(dir))
            .env("BACKUP_DATABASES", "src")
            .args(["backup", "postgresql"]);
        succeed(&mut backup);
        cluster
    }

    /// SIGTERM to `child` while the server waits (for a lock) inside the
    /// statement starting `start` (a `LIKE` pattern) that `held` holds up;
    /// `held` is let go once that statement is gone (or after 10 s). The
    /// statement must be stopped with the client, the run end 143 within
    /// 15 s, and the server hold the databases it held `before`.
    fn stopped_inside(
        s: &Server,
        before: &[String],
        child: std::process::Child,
        held: Session,
        start: &str,
    ) {
        let waiting = format!(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE query LIKE '{start}%' AND wait_event_type = 'Lock'"
        );
        assert!(
            wait_until(Duration::from_secs(120), || s.psql("postgres", &waiting)
                == "1"),
            "the restore never waited in {start}"
        );
        let clock = std::time::Instant::now();
        signal(child.id(), "TERM");
        let running = format!("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '{start}%'");
        let stopped = wait_until(Duration::from_secs(10), || {
            s.psql("postgres", &running) == "0"
        });
        drop(held);
        let out = wait_at_most(child, Duration::from_secs(30));
        let err = stderr(&out);
        assert!(stopped, "{start} goes on: {err}");
        assert_eq!(out.status.code(), Some(143), "{err}");
        assert!(clock.elapsed() < Duration::from_secs(15), "{err}");
        assert_eq!(s.databases(), before, "{err}");
    }

    #[test]
    fn stopped_while_its_database_is_created_leaves_none() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = small_backed_up(tmp.path());
        let s = &cluster.server;
        let before = s.databases();
        // The template held (renamed in an open transaction): the server
        // waits in `CREATE DATABASE`, whatever becomes of its client, and
        // goes on once the template is free.
        let mut held = s.session("postgres");
        held.run(
            "BEGIN; ALTER DATABASE template1 RENAME TO held_template; SELECT 'held';",
            "held",
        );
        let child = restore(s, tmp.path(), &["--to", "fresh", "--create"])
            .spawn()
            .unwrap();
        stopped_inside(s, &before, child, held, "CREATE DATABASE");
    }

    #[test]
    fn stopped_while_its_database_is_renamed_into_place_leaves_none() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = backed_up(tmp.path());
        let s = &cluster.server;
        let before = s.databases();
        let child = restore(s, tmp.path(), &["--to", "fresh", "--create"])
            .spawn()
            .unwrap();
        let staging = "SELECT datname FROM pg_database WHERE datname LIKE 'dbbr_restore_%'";
        let mut name = String::new();
        assert!(
            wait_until(Duration::from_secs(60), || {
                name = s.psql("postgres", staging);
                !name.is_empty()
            }),
            "no staging database"
        );
        // The staging database's catalog row held (changed in an open
        // transaction): the server waits inside the rename, whatever
        // becomes of its client, and goes on once the row is free.
        let mut held = s.session("postgres");
        held.run(
            &format!("BEGIN; ALTER DATABASE \"{name}\" CONNECTION LIMIT 1000; SELECT 'held';"),
            "held",
        );
        stopped_inside(s, &before, child, held, "ALTER DATABASE%RENAME");
    }

    #[test]
    fn a_client_killed_after_the_commit_took_effect_is_a_success() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = small_backed_up(tmp.path());
        let s = &cluster.server;
        let path = dying_psql(tmp.path(), r#"[ "$1" = -X ]"#);
        // dbbr's temporary files go here, to be looked at.
        let tmpdir = tmp.path().join("tmp");
        std::fs::create_dir(&tmpdir).unwrap();
        // The server committed before the client died: dbbr asks it, and the
        // restore succeeded.
        s.create_database("target");
        let out = restore(s, tmp.path(), &["--to", "target"])
            .env("PATH", &path)
            .env("TMPDIR", &tmpdir)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("after the restore committed"), "{err}");
        assert_eq!(s.checksums("target"), s.checksums("src"));
        // Into a new database, the same, and it is put in place.
        let out = restore(s, tmp.path(), &["--to", "fresh", "--create"])
            .env("PATH", &path)
            .env("TMPDIR", &tmpdir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(s.checksums("fresh"), s.checksums("src"));
        // The check's file is not left behind.
        let left: Vec<_> = std::fs::read_dir(&tmpdir).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        // The client of the rename into place killed after the server
        // renamed: dbbr asks the server, and the restore succeeded.
        let other = tempfile::tempdir().unwrap();
        let renaming = r#"[ "${PGAPPNAME#dbbr rename }" != "$PGAPPNAME" ]"#;
        let before = s.databases();
        let out = restore(s, tmp.path(), &["--to", "renamed", "--create"])
            .env("PATH", dying_psql(other.path(), renaming))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("although its client failed"), "{err}");
        assert_eq!(s.checksums("renamed"), s.checksums("src"));
        let after = s.databases();
        let new: Vec<&String> = after.iter().filter(|d| !before.contains(d)).collect();
        assert_eq!(new, ["renamed"], "{err}");
        // SIGTERM to dbbr once the server renamed, before its client
        // ended: stopped (143), and said to be complete, as it is.
        let third = tempfile::tempdir().unwrap();
        let out = restore(s, tmp.path(), &["--to", "late", "--create"])
            .env(
                "PATH",
                wrapped_psql(third.path(), renaming, "kill -TERM $PPID; exec sleep 5"),
            )
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(143), "{err}");
        assert!(err.contains("once the restore had finished"), "{err}");
        assert_eq!(s.checksums("late"), s.checksums("src"));
    }
}

mod mariadb {
    use super::*;
    use crate::common::mariadb::{Instance, Server};

    fn dbbr_on(server: &Server, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = dbbr();
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("MYSQL_UNIX_PORT", server.socket())
            .env("MYSQL_USER", "root")
            .env("REMOTE_NAME", local_remote(dir))
            .args(args)
            .args(["--", "--no-defaults"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn backed_up(dir: &Path) -> Instance {
        backed_up_with(dir, "small", "big", ROWS)
    }

    /// A server with database `src` (table `first`, one row, and table
    /// `second`, `rows` rows) backed up into `dir`.
    fn backed_up_with(dir: &Path, first: &str, second: &str, rows: u64) -> Instance {
        let instance = Instance::start();
        let s = instance.server();
        s.sql(&format!(
            "CREATE DATABASE src; USE src; CREATE TABLE src.{first} (id INT PRIMARY KEY, v TEXT);
             INSERT INTO src.{first} VALUES (1, 'a');
             CREATE TABLE src.{second} (id INT PRIMARY KEY, v VARCHAR(40));
             INSERT INTO src.{second} SELECT seq, MD5(seq) FROM seq_1_to_{rows};"
        ));
        let mut cmd = dbbr_on(s, dir, &["backup", "mariadb"]);
        cmd.env("BACKUP_DATABASES", "src")
            .env("COMPRESSION", "none");
        succeed(&mut cmd);
        instance
    }

    fn databases(s: &Server) -> Vec<String> {
        s.sql("SHOW DATABASES;")
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many statements insert into a staging database's `big` table.
    const INSERTING: &str = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB LIKE \
                             'dbbr\\_restore\\_%' AND INFO LIKE 'INSERT INTO `big`%';";

    /// Starts a restore and waits until its staging database has rows.
    fn started_inserting(s: &Server, cmd: &mut Command) -> (std::process::Child, u32) {
        let child = cmd.spawn().unwrap();
        let pid = child.id();
        let inserting = wait_until(Duration::from_secs(120), || s.sql(INSERTING).trim() != "0");
        assert!(inserting, "the restore never started inserting");
        let client = child_named(pid, "mariadb").expect("the restore's client");
        (child, client)
    }

    /// Stopped (SIGTERM) too, which the PostgreSQL module checks in
    /// `stopped_or_client_killed_mid_restore_leaves_nothing`.
    #[test]
    fn killed_mid_restore_leaves_the_target_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let instance = backed_up(tmp.path());
        let s = instance.server();
        s.sql("CREATE DATABASE target;");
        let (mut child, client) = started_inserting(
            s,
            &mut dbbr_on(
                s,
                tmp.path(),
                &["restore", "--latest", "src", "--to", "target"],
            ),
        );
        signal(child.id(), "KILL");
        child.wait().unwrap();
        assert!(gone(client), "the client outlived dbbr");
        // The client died with dbbr; the server finishes the statement it
        // had sent (MariaDB has no check on the client), which the next
        // restore must not be taken for.
        assert!(
            wait_until(Duration::from_secs(60), || s.sql(INSERTING).trim() == "0"),
            "the killed client's statement never ended"
        );
        let tables =
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'target';";
        assert_eq!(
            s.sql(tables).trim(),
            "0",
            "a killed restore changed the target"
        );
        // SIGTERM: the staging database is dropped, the new target never made.
        let before = databases(s);
        let (child, _) = started_inserting(
            s,
            &mut dbbr_on(
                s,
                tmp.path(),
                &["restore", "--latest", "src", "--to", "fresh", "--create"],
            ),
        );
        signal(child.id(), "TERM");
        let out = wait_at_most(child, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
        let after = databases(s);
        assert!(!after.contains(&"fresh".to_string()), "{after:?}");
        // The staging database of the killed run above stays (dbbr could
        // not clean up after SIGKILL); the stopped one's is gone.
        assert_eq!(after, before, "{}", stderr(&out));
        // Undisturbed, the restore moves every table into place.
        let out = dbbr_on(
            s,
            tmp.path(),
            &["restore", "--latest", "src", "--to", "target"],
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(s.checksums("target"), s.checksums("src"));
    }

    /// A statement running in the server whose text starts with `start`.
    fn running(s: &Server, start: &str) -> bool {
        let count = s.sql(&format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE INFO LIKE '{start}%' AND ID <> CONNECTION_ID();"
        ));
        count.trim() != "0"
    }

    /// SIGTERM to `child` while the server waits inside statement `start`
    /// that `held` holds up; `held` is let go once that statement is gone
    /// (or after 10 s). The statement must end with the client, and the
    /// run end 143; its stderr.
    fn stopped_inside(
        s: &Server,
        child: std::process::Child,
        held: Session,
        start: &str,
    ) -> String {
        assert!(
            wait_until(Duration::from_secs(120), || running(s, start)),
            "the restore never waited in {start}"
        );
        signal(child.id(), "TERM");
        let stopped = wait_until(Duration::from_secs(10), || !running(s, start));
        drop(held);
        let out = wait_at_most(child, Duration::from_secs(30));
        let err = stderr(&out);
        assert!(stopped, "{start} goes on: {err}");
        assert_eq!(out.status.code(), Some(143), "{err}");
        err
    }

    /// A statement whose client a signal killed takes no effect after the
    /// run: neither `CREATE DATABASE` held up by a global read lock nor
    /// the `RENAME TABLE` into place held up by a reader of a staging
    /// table (MariaDB gives up a lock wait whose client has gone, where
    /// PostgreSQL goes on).
    #[test]
    fn stopped_while_the_server_creates_or_moves_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let instance = backed_up_with(tmp.path(), "first", "second", 300_000);
        let s = instance.server();
        let restore = || {
            dbbr_on(
                s,
                tmp.path(),
                &["restore", "--latest", "src", "--to", "fresh", "--create"],
            )
            .spawn()
            .unwrap()
        };
        let mut held = Session::start(s.client().arg("--unbuffered"));
        held.run("FLUSH TABLES WITH READ LOCK; SELECT 'held';", "held");
        let before = databases(s);
        let err = stopped_inside(s, restore(), held, "CREATE DATABASE");
        assert_eq!(databases(s), before, "{err}");
        // The table loaded first read in an open transaction while the
        // second loads: the rename into place waits for that reader.
        let child = restore();
        let staging = "SELECT TABLE_SCHEMA FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA LIKE 'dbbr\\_restore\\_%' AND TABLE_NAME = 'second';";
        let mut name = String::new();
        assert!(
            wait_until(Duration::from_secs(60), || {
                name = s.sql(staging).trim().to_string();
                !name.is_empty()
            }),
            "no staging table"
        );
        let mut held = Session::start(s.client().arg("--unbuffered"));
        held.run(
            &format!("BEGIN; SELECT COUNT(*) FROM `{name}`.`first`;"),
            "1",
        );
        let err = stopped_inside(s, child, held, "RENAME TABLE");
        assert_eq!(databases(s), before, "{err}");
    }
}
