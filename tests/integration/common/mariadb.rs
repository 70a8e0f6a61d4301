//! MariaDB helpers: admin clients, throwaway databases and servers, sample
//! data and its checksums, restores through the standard tools, `dbbr
//! backup mariadb` commands and the backups they leave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dbbr::Manifest;

use crate::common::*;

/// The engine name in the manifests of MariaDB backups.
pub const MARIADB: &str = "mariadb";

/// Bytes of the large LONGTEXT value of the sample data (5 MiB).
pub const LARGE_TEXT_BYTES: u64 = 5 << 20;
/// Bytes of the large LONGBLOB value of the sample data (5 MiB).
pub const LARGE_BLOB_BYTES: u64 = 5 << 20;
/// Rows of the sample data's `events` table.
pub const EVENT_ROWS: u64 = 4000;

/// A MariaDB server reached as root through its unix socket (socket auth).
pub struct Server {
    socket: PathBuf,
}

impl Server {
    /// The shared test server started by scripts/services.
    pub fn shared() -> Server {
        Server {
            socket: setting("DBBR_TEST_MYSQL_SOCKET").into(),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `mariadb` as root over the socket, without option files.
    pub fn client(&self) -> Command {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["--user=root", "--default-character-set=utf8mb4"])
            .args(["--batch", "--skip-column-names"]);
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
        cmd
    }

    /// Runs `sql` (given on stdin) and returns its output; panics on failure.
    pub fn sql(&self, sql: &str) -> String {
        let out = feed(&mut self.client(), sql.as_bytes());
        assert!(out.status.success(), "SQL failed: {}\n{sql}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Whether database `db` exists.
    pub fn has_database(&self, db: &str) -> bool {
        let n = self.sql(&format!(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{db}';"
        ));
        n.trim() == "1"
    }

    pub fn drop_database(&self, db: &str) {
        self.sql(&format!("DROP DATABASE IF EXISTS `{db}`;"));
    }

    /// Creates database `db` with the sample data (see [`sample_sql`]).
    pub fn create_sample(&self, db: &str, large: bool) {
        self.sql(&sample_sql(db, large));
    }

    /// A fingerprint of every base table of `db`: its row count and its
    /// `CHECKSUM TABLE` value, by table name.
    pub fn checksums(&self, db: &str) -> BTreeMap<String, String> {
        let tables = self.sql(&format!(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = '{db}' AND table_type = 'BASE TABLE' ORDER BY table_name;"
        ));
        let mut out = BTreeMap::new();
        for table in tables.lines().filter(|t| !t.is_empty()) {
            let count = self.sql(&format!("SELECT COUNT(*) FROM `{db}`.`{table}`;"));
            let sum = self.sql(&format!("CHECKSUM TABLE `{db}`.`{table}`;"));
            let sum = sum.split('\t').nth(1).unwrap_or("").trim().to_string();
            assert!(
                !sum.is_empty() && sum != "NULL",
                "no checksum for {db}.{table}"
            );
            out.insert(table.to_string(), format!("{} rows, {sum}", count.trim()));
        }
        assert!(!out.is_empty(), "{db} has no tables");
        out
    }

    /// Checks, value by value, that `db` holds what [`sample_sql`] stored:
    /// the text and the large values as read back through the client.
    pub fn assert_sample(&self, db: &str, large: bool) {
        let names = self.sql(&format!("SELECT name FROM `{db}`.cities ORDER BY id;"));
        assert_eq!(
            names.lines().collect::<Vec<_>>(),
            ["Zürich", "東京", "São Paulo", "emoji 😀🎉"],
            "{db}"
        );
        let nulls = self.sql(&format!(
            "SELECT COUNT(*), SUM(note IS NULL), SUM(population IS NULL) FROM `{db}`.cities;"
        ));
        assert_eq!(nulls.trim(), "4\t1\t2", "{db}");
        let special = self.sql(&format!(
            "SELECT HEX(note) FROM `{db}`.cities WHERE id = 4;"
        ));
        assert_eq!(
            special.trim(),
            hex::encode_upper("a'quote \"double\" back\\slash\nnew\tline\0nul".as_bytes()),
            "{db}"
        );
        let events = self.sql(&format!(
            "SELECT COUNT(*), SUM(payload IS NULL), MAX(id) FROM `{db}`.events;"
        ));
        assert_eq!(
            events.trim(),
            format!("{EVENT_ROWS}\t{}\t{EVENT_ROWS}", EVENT_ROWS / 7),
            "{db}"
        );
        let blobs = self.sql(&format!(
            "SELECT id, LENGTH(body), LENGTH(data), SHA2(body, 256), SHA2(data, 256) \
             FROM `{db}`.blobs ORDER BY id;"
        ));
        let rows: Vec<&str> = blobs.lines().collect();
        assert_eq!(rows.len(), if large { 3 } else { 1 }, "{db}: {blobs}");
        assert!(rows[0].starts_with("1\t4\t8\t"), "{db}: {}", rows[0]);
        if large {
            let text: Vec<&str> = rows[1].split('\t').collect();
            let blob: Vec<&str> = rows[2].split('\t').collect();
            assert_eq!(text[1], LARGE_TEXT_BYTES.to_string(), "{db}");
            assert_eq!(text[2], "NULL", "{db}");
            assert_eq!(blob[1], "NULL", "{db}");
            assert_eq!(blob[2], LARGE_BLOB_BYTES.to_string(), "{db}");
            let repeated = "Zürich 東京 🎉 ".repeat((LARGE_TEXT_BYTES / 20) as usize);
            assert_eq!(text[3], sha256(repeated.as_bytes()), "{db}");
        }
    }

    /// Feeds what the shell command `decode` writes on stdout (see
    /// [`pipeline`]: [`GUNZIP`], [`AGE_GUNZIP`]) into `mariadb` on this
    /// server; panics on failure.
    pub fn restore(&self, decode: &str, args: &[&Path]) {
        let client = "mariadb --no-defaults --user=root --socket=\"$DBBR_RESTORE_SOCKET\"";
        let out = pipeline(decode, client, args)
            .env("DBBR_RESTORE_SOCKET", &self.socket)
            .output()
            .unwrap();
        assert!(out.status.success(), "restore failed: {}", stderr(&out));
    }
}

/// SQL creating database `db` with InnoDB tables holding non-ASCII text
/// (utf8mb4), NULLs, characters that need escaping, a foreign key, a view,
/// [`EVENT_ROWS`] generated rows and, if `large`, a 5 MiB LONGTEXT and a
/// 5 MiB LONGBLOB of every byte value.
pub fn sample_sql(db: &str, large: bool) -> String {
    let mut sql = format!(
        r#"
CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE `{db}`;
CREATE TABLE cities (
  id INT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  note TEXT NULL,
  population BIGINT NULL,
  founded DATE NULL,
  ratio DECIMAL(10,4) NULL
) ENGINE=InnoDB;
INSERT INTO cities VALUES
  (1, 'Zürich', 'Grüezi 🇨🇭', 421878, '1218-01-01', 0.5),
  (2, '東京', 'こんにちは 🗼', 13960000, NULL, NULL),
  (3, 'São Paulo', NULL, NULL, '1554-01-25', 1.25),
  (4, 'emoji 😀🎉', UNHEX('{special}'), NULL, NULL, -3.1416);
CREATE TABLE events (
  id INT AUTO_INCREMENT PRIMARY KEY,
  city_id INT NOT NULL,
  at DATETIME(6) NOT NULL,
  payload VARCHAR(255) NULL,
  amount DOUBLE NULL,
  KEY (city_id),
  CONSTRAINT events_city FOREIGN KEY (city_id) REFERENCES cities (id)
) ENGINE=InnoDB;
INSERT INTO events (city_id, at, payload, amount)
  SELECT 1 + seq % 4, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq * 1001 MICROSECOND,
         IF(seq % 7 = 0, NULL, CONCAT('évènement-', seq, '-', SHA2(seq, 224))),
         IF(seq % 5 = 0, NULL, seq / 3)
  FROM seq_1_to_{EVENT_ROWS};
CREATE VIEW city_events AS
  SELECT c.name, COUNT(*) AS n FROM cities c JOIN events e ON e.city_id = c.id GROUP BY c.name;
CREATE TABLE blobs (
  id INT PRIMARY KEY,
  label VARCHAR(50) NOT NULL,
  body LONGTEXT NULL,
  data LONGBLOB NULL
) ENGINE=InnoDB;
INSERT INTO blobs VALUES (1, 'small', 'tiny', x'00ff27225c0a0d1a');
"#,
        special = hex::encode("a'quote \"double\" back\\slash\nnew\tline\0nul".as_bytes()),
    );
    if large {
        sql.push_str(&format!(
            r#"
SET SESSION group_concat_max_len = 64 * 1024 * 1024;
INSERT INTO blobs VALUES (2, 'large text', REPEAT('Zürich 東京 🎉 ', {reps}), NULL);
INSERT INTO blobs
  SELECT 3, 'large blob', NULL, GROUP_CONCAT(UNHEX(SHA2(seq, 256)) ORDER BY seq SEPARATOR '')
  FROM seq_1_to_{chunks};
"#,
            reps = LARGE_TEXT_BYTES / 20,
            chunks = LARGE_BLOB_BYTES / 32,
        ));
    }
    sql
}

/// A private MariaDB server in a temporary directory, reachable only through
/// its unix socket (root by socket auth). Killed when dropped, even on panic.
pub struct Instance {
    server: Server,
    child: Child,
    dir: tempfile::TempDir,
}

impl Instance {
    pub fn start() -> Instance {
        let dir = tempfile::Builder::new()
            .prefix("dbbr-my")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        // A temporary directory of its own: bootstraps running at the same
        // time otherwise clash on temporary table names in /tmp.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let out = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg("--auth-root-authentication-method=socket")
            .arg("--skip-test-db")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        let socket = dir.path().join("s.sock");
        let child = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!(
                "--log-error={}",
                dir.path().join("error.log").display()
            ))
            .args(["--skip-networking", "--innodb-buffer-pool-size=64M"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut instance = Instance {
            server: Server { socket },
            child,
            dir,
        };
        instance.wait_ready();
        instance
    }

    fn wait_ready(&mut self) {
        let (server, child) = (&self.server, &mut self.child);
        let answers = || {
            let mut probe = server.client();
            probe.args(["-e", "SELECT 1"]);
            probe.output().is_ok_and(|o| o.status.success())
        };
        let ready = wait_until(Duration::from_secs(60), || {
            (server.socket.exists() && answers()) || child.try_wait().unwrap().is_some()
        });
        let log = std::fs::read_to_string(self.dir.path().join("error.log"));
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("mariadbd exited with {status}: {log:?}");
        }
        assert!(ready, "mariadbd did not start: {log:?}");
    }

    pub fn server(&self) -> &Server {
        &self.server
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database of the shared server holding the sample data, dropped when
/// the guard goes out of scope.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// A new database with a unique name and the sample data (see
    /// [`sample_sql`]).
    pub fn sample(large: bool) -> TestDb {
        let db = TestDb { name: unique("my") };
        Server::shared().create_sample(&db.name, large);
        db
    }

    /// [`TestDb::sample`] without its view: tables only, which a restore
    /// into a database moves into place at once.
    pub fn tables_only() -> TestDb {
        let db = TestDb::sample(false);
        Server::shared().sql(&format!("DROP VIEW `{}`.city_events;", db.name));
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = feed(
            &mut Server::shared().client(),
            format!("DROP DATABASE IF EXISTS `{}`;", self.name).as_bytes(),
        );
    }
}

/// The password of the shared server's user `dbbr`.
pub fn password() -> String {
    setting("DBBR_TEST_MYSQL_PASSWORD")
}

/// `dbbr backup mariadb` into the local directory `dir`, with no MYSQL_*
/// setting inherited.
pub fn backup_to(dir: &Path) -> Command {
    let mut cmd = dbbr();
    for (k, _) in std::env::vars() {
        if k.starts_with("MYSQL_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(["backup", "mariadb"])
        .env("REMOTE_NAME", local_remote(dir))
        .stdin(Stdio::null());
    cmd
}

/// Connection to the shared server as the password user over TCP, all by
/// environment.
pub fn over_tcp(cmd: &mut Command) -> &mut Command {
    cmd.env("MYSQL_HOST", setting("DBBR_TEST_MYSQL_HOST"))
        .env("MYSQL_TCP_PORT", setting("DBBR_TEST_MYSQL_PORT"))
        .env("MYSQL_USER", setting("DBBR_TEST_MYSQL_USER"))
        .env("MYSQL_PWD", password())
}

/// The one MariaDB backup below `dir` (see [`only_backup`]), with the
/// server's and the dump tool's versions in its manifest: the object's
/// path and the manifest.
pub fn mariadb_backup(dir: &Path, prefix: &str, suffix: &str) -> (PathBuf, Manifest) {
    let (object, m) = only_backup(dir, MARIADB, prefix, suffix);
    let server = m.server_version.as_deref().unwrap_or_default();
    assert!(server.contains("MariaDB"), "{m:?}");
    let tool = m.dump_tool.as_deref().unwrap_or_default();
    assert!(tool.contains("mariadb-dump"), "{m:?}");
    (dir.join(object), m)
}
