//! PostgreSQL helpers: connection settings for the shared test server,
//! throwaway databases and clusters, sample data and its checksums, restores
//! with the standard tools, and `dbbr backup postgresql` commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::*;

/// The engine name in the manifests of PostgreSQL backups.
pub const POSTGRESQL: &str = "postgresql";

/// How to reach a PostgreSQL server with libpq's environment variables.
#[derive(Debug, Clone)]
pub struct Server {
    pub host: String,
    pub port: String,
    pub user: String,
    pub password: Option<String>,
}

impl Server {
    /// The shared test server (TCP, scram password auth, superuser).
    pub fn shared() -> Server {
        Server {
            host: setting("DBBR_TEST_PG_HOST"),
            port: setting("DBBR_TEST_PG_PORT"),
            user: setting("DBBR_TEST_PG_USER"),
            password: Some(setting("DBBR_TEST_PG_PASSWORD")),
        }
    }

    /// Sets the connection variables on `cmd` and clears every other libpq
    /// setting the test process may have inherited.
    pub fn env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for var in [
            "PGDATABASE",
            "PGSERVICE",
            "PGSERVICEFILE",
            "PGPASSWORD",
            "PGSSLMODE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("PGHOST", &self.host)
            .env("PGPORT", &self.port)
            .env("PGUSER", &self.user)
            // No ~/.pgpass may stand in for a password under test.
            .env("PGPASSFILE", "/nonexistent/dbbr-test-pgpass")
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGTZ", "UTC");
        if let Some(password) = &self.password {
            cmd.env("PGPASSWORD", password);
        }
        cmd
    }

    /// An interactive psql session on `db`, killed when dropped.
    pub fn session(&self, db: &str) -> Session {
        let mut psql = Command::new("psql");
        self.env(&mut psql).args(["-X", "-q", "-A", "-t", "-d", db]);
        Session::start(&mut psql)
    }

    /// A session holding an exclusive lock on `table` of `db` until it is
    /// dropped: a dump of the table waits for it.
    pub fn lock_table(&self, db: &str, table: &str) -> Session {
        let mut lock = self.session(db);
        lock.run(
            &format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT 'locked';"),
            "locked",
        );
        lock
    }

    /// Runs `sql` (any number of statements, outside a transaction block)
    /// in `db` with psql and returns its unaligned output; panics on error.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let mut cmd = Command::new("psql");
        self.env(&mut cmd).args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            db,
            "-f",
            "-",
        ]);
        let out = feed(&mut cmd, sql.as_bytes());
        assert!(
            out.status.success(),
            "psql on {db} failed: {}\n{sql:.500}",
            stderr(&out)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// The names of the server's databases, sorted.
    pub fn databases(&self) -> Vec<String> {
        let all = self.psql("postgres", "SELECT datname FROM pg_database ORDER BY 1");
        all.lines().map(str::to_string).collect()
    }

    /// Creates database `name` (owned by the caller from then on).
    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
    }

    /// Restores into `db` what the shell command `decode` writes on stdout
    /// (see [`pipeline`]: [`GUNZIP`], [`AGE_GUNZIP`]), with `psql -d db`
    /// (and ON_ERROR_STOP if `strict`).
    pub fn restore(&self, db: &str, decode: &str, args: &[&Path], strict: bool) -> Output {
        let stop = if strict { "-v ON_ERROR_STOP=1" } else { "" };
        let client = format!("psql -X -q {stop} -d \"$DBBR_RESTORE_DB\" >/dev/null");
        let mut cmd = pipeline(decode, &client, args);
        let out = self
            .env(&mut cmd)
            .env("DBBR_RESTORE_DB", db)
            .output()
            .unwrap();
        if strict {
            assert!(
                out.status.success(),
                "restore into {db} failed: {}",
                stderr(&out)
            );
        }
        out
    }

    /// Per table of schema `public`: `rows:md5 of every row as text, in id
    /// order`.
    pub fn checksums(&self, db: &str) -> BTreeMap<String, String> {
        let tables = self.psql(
            db,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
        );
        let mut sums = BTreeMap::new();
        for table in tables.lines() {
            let sum = self.psql(
                db,
                &format!(
                    "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '-') \
                     FROM public.\"{table}\" t"
                ),
            );
            sums.insert(table.to_string(), sum);
        }
        sums
    }

    /// Fills `db` with the sample tables: non-ASCII text, NULLs, a 5 MB text
    /// value and a 2.6 MB bytea, a few thousand rows, a view and a sequence.
    pub fn fill_sample(&self, db: &str) {
        self.psql(db, SAMPLE_SQL);
    }

    /// Makes the builds of [`SLOW_INDEX_SQL`]'s indexes slow in `db`.
    pub fn slow_builds(&self, db: &str) {
        self.psql(
            "postgres",
            &format!("ALTER DATABASE {db} SET dbbr_test.slow = 'on'"),
        );
    }
}

/// A table `t` of 600 rows with an index `t_slow` whose build takes a
/// minute (0.1 s a row) in a database set up with [`Server::slow_builds`],
/// and no time elsewhere (its backup's source).
pub const SLOW_INDEX_SQL: &str = "
CREATE FUNCTION public.slow(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_setting('dbbr_test.slow', true) = 'on' THEN PERFORM pg_sleep(0.1); END IF;
  RETURN i;
END $$;
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 600) i;
CREATE INDEX t_slow ON t (public.slow(id));
";

/// The sample schema and data (see [`Server::fill_sample`]).
pub const SAMPLE_SQL: &str = r#"
CREATE TABLE cities (id int PRIMARY KEY, name text NOT NULL, note text, population bigint);
INSERT INTO cities VALUES
  (1, 'Zürich', 'Grüezi mitenand', 421878),
  (2, '東京', '日本の首都', 13960000),
  (3, 'emoji 🐘🎉👩‍💻', NULL, NULL),
  (4, E'tab\tnewline\nbackslash \\ quote '' done', E'\\x00 is not a NUL', 0),
  (5, 'Ελληνικά', 'Ünïcödé', -1);
CREATE TABLE items (
  id int PRIMARY KEY, label text, qty int, price numeric(12,2),
  created timestamptz, flag boolean, tags text[]);
INSERT INTO items
  SELECT g,
         CASE WHEN g % 7 = 0 THEN NULL ELSE 'item ' || g || ' ' || md5(g::text) END,
         CASE WHEN g % 5 = 0 THEN NULL ELSE g * 3 END,
         round((g * 1.37)::numeric, 2),
         timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
         g % 2 = 0,
         ARRAY['a' || g, 'ß', NULL]
  FROM generate_series(1, 4000) g;
CREATE TABLE blobs (id int PRIMARY KEY, big text, bin bytea);
INSERT INTO blobs
  SELECT 1, string_agg(md5(g::text), '' ORDER BY g),
         decode(string_agg(md5((g * 7)::text), '' ORDER BY g), 'hex')
  FROM generate_series(1, 163840) g;
INSERT INTO blobs VALUES (2, NULL, NULL), (3, '', '\x');
CREATE VIEW item_flags AS SELECT flag, count(*) AS n FROM items GROUP BY flag;
CREATE SEQUENCE ticket_seq START 1000;
SELECT setval('ticket_seq', 4242);
"#;

/// A database on the shared server, dropped (with its connections) when
/// the guard goes out of scope.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// A new, empty database with a unique name.
    pub fn create() -> TestDb {
        let name = unique("pg");
        Server::shared().create_database(&name);
        TestDb { name }
    }

    /// A new database holding the sample data.
    pub fn sample() -> TestDb {
        let db = TestDb::create();
        Server::shared().fill_sample(&db.name);
        db
    }

    /// A new database with one small table.
    pub fn small() -> TestDb {
        let db = TestDb::create();
        Server::shared().psql(
            &db.name,
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'ä'), (2, NULL);",
        );
        db
    }

    pub fn checksums(&self) -> BTreeMap<String, String> {
        Server::shared().checksums(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let mut cmd = Command::new("psql");
        Server::shared()
            .env(&mut cmd)
            .args(["-X", "-q", "-d", "postgres", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = cmd.status();
    }
}

/// A throwaway PostgreSQL cluster owned by the `postgres` OS user, reachable
/// only through a unix socket in its own temporary directory, with trust
/// auth. Stopped (`-m immediate`) and removed when dropped, even on panic.
pub struct Cluster {
    pub server: Server,
    data: PathBuf,
    bin: PathBuf,
    // Last: removed after the server has stopped.
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        run_ok(
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()),
        );
        let bin = PathBuf::from(setting("DBBR_TEST_PG_BIN"));
        let data = dir.path().join("data");
        run_ok(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
                .args(["--locale=C.UTF-8", "--no-sync"]),
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            server: Server {
                host: dir.path().to_str().unwrap().to_string(),
                port: port.to_string(),
                user: "postgres".into(),
                password: None,
            },
            data,
            bin,
            _dir: dir,
        };
        // From here on, Drop stops the server whatever happens.
        let log = Path::new(&cluster.server.host).join("server.log");
        let options = format!(
            "-c listen_addresses='' -p {port} -k {} -c fsync=off",
            cluster.server.host
        );
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(cluster.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&cluster.data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pg_ctl start failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        cluster
    }
}

impl Cluster {
    /// Restarts the server (fast shutdown: sessions are cut), with the
    /// options it was started with.
    pub fn restart(&self) {
        run_ok(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "fast", "-w", "-t", "60", "restart"])
                .stdin(Stdio::null())
                .stdout(Stdio::null()),
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `dbbr backup postgresql` against the shared server, with a clean
/// environment and no remote set (so the default `store` applies).
pub fn backup_cmd() -> Command {
    backup_cmd_for(&Server::shared())
}

/// `dbbr backup postgresql` against `server`.
pub fn backup_cmd_for(server: &Server) -> Command {
    let mut cmd = dbbr();
    server.env(&mut cmd);
    cmd.args(["backup", "postgresql"]);
    cmd
}

/// [`backup_cmd`] uploading to the local directory `dir`.
pub fn backup_to(dir: &Path) -> Command {
    let mut cmd = backup_cmd();
    cmd.env("REMOTE_NAME", local_remote(dir));
    cmd
}

/// A directory holding stand-ins for `pg_dump`, `pg_dumpall` and `psql`
/// that only leave a marker file: put it first on PATH to prove that no
/// database tool ran. Returns (PATH value, marker path).
pub fn tripwire_tools(dir: &Path) -> (String, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = dir.join("a-database-tool-ran");
    for tool in ["pg_dump", "pg_dumpall", "psql"] {
        write_executable(
            &bin.join(tool),
            &format!("#!/bin/sh\necho {tool} >>'{}'\nexit 1\n", marker.display()),
        );
    }
    (path_with(&bin), marker)
}
