//! What every case starts from, made once per run: a source database and a
//! second one on each engine (the same names on both), a role and a user
//! whose passwords are canaries, a notification endpoint whose URL holds a
//! canary token, the fault proxy, and per engine a template prefix of
//! stored backups made by dbbr itself, three generations of the source
//! database (each with its own content, so that a restore shows which one
//! it restored) and three of the other. A second template per engine holds
//! databases named like special objects: three generations of a database
//! named `all`, two of one named `globals`, next to a real globals backup
//! (PostgreSQL's) and a real whole-server backup (of a private server), the
//! newest.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use dbbr::Manifest;

use crate::common::*;

use super::dbs::{self, Sums};
use super::plan::{Engine, STORED};

/// What a backup holds, as the run that made it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// One database.
    Database,
    /// The server's roles, users and grants (`BACKUP_GLOBALS`).
    Globals,
    /// The whole server (`BACKUP_ALL`).
    WholeServer,
}

/// One backup of a template, as dbbr stored it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub kind: Kind,
    pub database: String,
    /// Its data object, relative to the prefix.
    pub object: String,
    pub time: DateTime<Utc>,
    /// For the source database: its generation (1 = oldest) and the
    /// source's tables when it was taken.
    pub generation: Option<(usize, Sums)>,
}

/// A directory holding what a prefix holds after a few backup runs.
pub struct Template {
    /// The storage root: the backups are under the prefix in it.
    pub dir: PathBuf,
    pub stored: Vec<Stored>,
    /// The source database's tables now, as its newest backup has them.
    pub source_sums: Sums,
}

/// The secrets a case's commands are given; none may show in any output.
pub struct Canaries {
    pub pg_password: String,
    pub my_password: String,
    pub notify_url: String,
    /// Every secret value, in every form output could carry it.
    pub forms: Vec<String>,
}

/// Everything shared by the cases of one run.
pub struct World {
    pub tmp: tempfile::TempDir,
    /// The source database's name (the same on both engines).
    pub src: String,
    /// The other database's name (the same on both engines).
    pub other: String,
    pub pg_role: String,
    pub my_user: String,
    pub canaries: Canaries,
    pub proxy: Proxy,
    pub notify: Recorder,
    /// Per engine: the usual template, then the special names'; each made
    /// when a case first needs it (a replay makes only its own).
    templates: [[OnceCell<Template>; 2]; 2],
    /// Per engine: whether its databases are made.
    sources: [OnceCell<()>; 2],
}

/// The database named like a whole-server backup, the special template's
/// source.
pub const SPECIAL: &str = "all";

/// Rows of the source database's large table: enough that a backup or a
/// restore takes a second or more, so that a signal lands mid-stream.
const BIG_ROWS: u32 = 200_000;

impl World {
    /// Makes the databases, credentials and templates.
    pub fn build() -> World {
        let tmp = tempfile::Builder::new()
            .prefix("dbbr-chaos")
            .tempdir()
            .unwrap();
        let tag = unique("");
        let src = format!("chaos{tag}");
        let other = format!("chaos{tag}b");
        let pg_role = format!("chaos_role{tag}");
        let my_user = format!("chaos_user{tag}");
        let notify = Recorder::start(200);
        let canaries = Canaries::new(&tag, &notify.url);
        let world = World {
            src,
            other,
            pg_role,
            my_user,
            canaries,
            proxy: Proxy::start(&s3c_address()),
            notify,
            templates: Default::default(),
            sources: Default::default(),
            tmp,
        };
        write_private(
            &world.password_file(Engine::Pg),
            &format!("{}\n", world.canaries.pg_password),
        );
        write_private(
            &world.password_file(Engine::Maria),
            &format!("{}\n", world.canaries.my_password),
        );
        world.create_credentials();
        world
    }

    /// The template of `engine`: the usual one, or the special names'.
    pub fn template(&self, engine: Engine, special: bool) -> &Template {
        if engine == Engine::Maria && !special {
            // Always made in the same order, so that which engine's
            // backups are the newest (what `--latest` across both engines
            // picks) does not depend on which case came first.
            self.template(Engine::Pg, false);
        }
        self.templates[engine as usize][usize::from(special)].get_or_init(|| {
            self.sources[engine as usize].get_or_init(|| self.create_sources(engine));
            let template = if special {
                // MariaDB's globals backup fails on the anonymous accounts
                // the test server has (see docs/backup.md): PostgreSQL's only.
                let globals = engine == Engine::Pg;
                let runs = [
                    ("all,globals", false),
                    ("all", globals),
                    ("all,globals", false),
                ];
                let mut template = self.make_template(engine, true, SPECIAL, &runs);
                self.add_whole_server(engine, &mut template);
                template
            } else {
                let both = format!("{},{}", self.src, self.other);
                self.make_template(engine, false, &self.src, &[(both.as_str(), false); STORED])
            };
            // A backup case right after would otherwise get the same name
            // (names carry the second) as the newest stored backup.
            std::thread::sleep(Duration::from_millis(1100));
            template
        })
    }

    fn create_credentials(&self) {
        let c = &self.canaries;
        dbs::admin(
            Engine::Pg,
            "",
            &format!(
                "CREATE ROLE \"{}\" LOGIN SUPERUSER PASSWORD '{}'",
                self.pg_role, c.pg_password
            ),
        );
        dbs::admin(
            Engine::Maria,
            "",
            &format!(
                "CREATE USER '{u}'@'127.0.0.1' IDENTIFIED BY '{p}'; \
                 GRANT ALL PRIVILEGES ON *.* TO '{u}'@'127.0.0.1' WITH GRANT OPTION;",
                u = self.my_user,
                p = c.my_password
            ),
        );
    }

    fn create_sources(&self, engine: Engine) {
        let (src, other) = (&self.src, &self.other);
        for name in [SPECIAL, "globals"] {
            dbs::drop_db(engine, name);
        }
        let small = |db: &str| match engine {
            Engine::Pg => format!(
                "CREATE DATABASE \"{db}\";
                 \\c \"{db}\"
                 CREATE TABLE t (id int PRIMARY KEY, v text);
                 INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 20000) g;
                 CREATE TABLE cities (id int PRIMARY KEY, name text, note text);
                 INSERT INTO cities VALUES (3, 'x', 'generation 0');
                 CREATE TABLE generation (id int PRIMARY KEY, g int NOT NULL);
                 INSERT INTO generation VALUES (1, 0);"
            ),
            Engine::Maria => format!(
                "CREATE DATABASE `{db}`; USE `{db}`;
                 CREATE TABLE t (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
                 INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_20000;
                 CREATE TABLE cities (id INT PRIMARY KEY, name TEXT, note TEXT) ENGINE=InnoDB;
                 INSERT INTO cities VALUES (3, 'x', 'generation 0');
                 CREATE TABLE generation (id INT PRIMARY KEY, g INT NOT NULL) ENGINE=InnoDB;
                 INSERT INTO generation VALUES (1, 0);"
            ),
        };
        for name in [SPECIAL, "globals"] {
            dbs::admin(engine, "", &small(name));
        }
        match engine {
            Engine::Pg => {
                let server = pg::Server::shared();
                server.create_database(src);
                server.create_database(other);
                server.psql(
                    src,
                    &format!(
                        "CREATE TABLE big (id int PRIMARY KEY, v text);
                         INSERT INTO big SELECT i, md5(i::text) || md5((i * 7)::text)
                           FROM generate_series(1, {BIG_ROWS}) i;
                         CREATE TABLE cities (id int PRIMARY KEY, name text, note text);
                         INSERT INTO cities VALUES (1, 'Zürich', 'Grüezi'), (2, '東京', NULL),
                           (3, 'emoji 🐘', 'generation 0');
                         CREATE TABLE generation (id int PRIMARY KEY, g int NOT NULL);
                         INSERT INTO generation VALUES (1, 0);"
                    ),
                );
                server.psql(
                    other,
                    "CREATE TABLE t (id int PRIMARY KEY, v text);
                     INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 20) g;",
                );
            }
            Engine::Maria => {
                dbs::admin(
                    engine,
                    "",
                    &format!(
                        "CREATE DATABASE `{src}` CHARACTER SET utf8mb4;
                         CREATE DATABASE `{other}` CHARACTER SET utf8mb4;
                         USE `{src}`;
                         CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB;
                         INSERT INTO big SELECT seq, CONCAT(MD5(seq), MD5(seq * 7))
                           FROM seq_1_to_{BIG_ROWS};
                         CREATE TABLE cities (id INT PRIMARY KEY, name VARCHAR(50), note TEXT)
                           ENGINE=InnoDB;
                         INSERT INTO cities VALUES (1, 'Zürich', 'Grüezi'), (2, '東京', NULL),
                           (3, 'emoji 😀', 'generation 0');
                         CREATE TABLE generation (id INT PRIMARY KEY, g INT NOT NULL)
                           ENGINE=InnoDB;
                         INSERT INTO generation VALUES (1, 0);
                         USE `{other}`;
                         CREATE TABLE t (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
                         INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_20;"
                    ),
                );
            }
        }
    }

    /// Backup runs into one of the engine's templates, `source` one
    /// generation further before each: `runs` are each run's
    /// `BACKUP_DATABASES` and `BACKUP_GLOBALS`.
    fn make_template(
        &self,
        engine: Engine,
        special: bool,
        source: &str,
        runs: &[(&str, bool)],
    ) -> Template {
        let dir = self
            .tmp
            .path()
            .join(format!("template-{}-{special}", engine.short()));
        let prefixed = dir.join(super::prefix::PREFIX);
        std::fs::create_dir_all(&prefixed).unwrap();
        let mut stored = Vec::new();
        let mut source_sums = Sums::new();
        for (run, (databases, globals)) in runs.iter().enumerate() {
            let generation = run + 1;
            dbs::admin(
                engine,
                source,
                &format!(
                    "UPDATE generation SET g = {generation} WHERE id = 1; \
                     UPDATE cities SET note = 'generation {generation}' WHERE id = 3;"
                ),
            );
            let dbs::DbState::Tables(sums) = dbs::state(engine, source) else {
                panic!("{source} is gone")
            };
            let before = files_below(&prefixed);
            // One run a second at most: names carry the second.
            std::thread::sleep(Duration::from_millis(1100));
            let out = self
                .dbbr(engine, &local_remote(&dir), &["backup", engine.name()])
                .env("BACKUP_DATABASES", databases)
                .env("BACKUP_GLOBALS", globals.to_string())
                .output()
                .unwrap();
            assert!(out.status.success(), "template backup: {}", stderr(&out));
            for (m, object) in new_backups(&prefixed, &before) {
                let kind = if m.globals {
                    Kind::Globals
                } else {
                    Kind::Database
                };
                stored.push(Stored {
                    kind,
                    generation: (kind == Kind::Database && m.database == source)
                        .then(|| (generation, sums.clone())),
                    database: m.database,
                    object,
                    time: m.started_at,
                });
            }
            source_sums = sums;
        }
        let want = runs
            .iter()
            .map(|(d, g)| d.split(',').count() + usize::from(*g))
            .sum::<usize>();
        assert_eq!(stored.len(), want, "{stored:?}");
        Template {
            dir,
            stored,
            source_sums,
        }
    }

    /// A whole-server backup (of a private server of the engine, with one
    /// small database) into the special template, the newest there.
    fn add_whole_server(&self, engine: Engine, template: &mut Template) {
        let dir = template.dir.clone();
        let prefixed = dir.join(super::prefix::PREFIX);
        let before = files_below(&prefixed);
        std::thread::sleep(Duration::from_millis(1100));
        let out = match engine {
            Engine::Pg => {
                let cluster = pg::Cluster::start();
                cluster.server.psql(
                    "postgres",
                    "CREATE DATABASE wsdb; \\c wsdb\nCREATE TABLE w (id int PRIMARY KEY); \
                     INSERT INTO w VALUES (1);",
                );
                pg::backup_cmd_for(&cluster.server)
                    .env("REMOTE_NAME", local_remote(&dir))
                    .env("UPLOAD_PREFIX", super::prefix::PREFIX)
                    .env("BACKUP_ALL", "true")
                    .output()
                    .unwrap()
            }
            Engine::Maria => {
                let instance = mariadb::Instance::start();
                instance
                    .server()
                    .sql("CREATE DATABASE wsdb; CREATE TABLE wsdb.w (id INT PRIMARY KEY); INSERT INTO wsdb.w VALUES (1);");
                mariadb::backup_to(&dir)
                    .env("UPLOAD_PREFIX", super::prefix::PREFIX)
                    .env("BACKUP_ALL", "true")
                    .env("MYSQL_UNIX_PORT", instance.server().socket())
                    .env("MYSQL_USER", "root")
                    .args(["--", "--no-defaults"])
                    .output()
                    .unwrap()
            }
        };
        assert!(
            out.status.success(),
            "whole-server backup: {}",
            stderr(&out)
        );
        let new = new_backups(&prefixed, &before);
        assert_eq!(new.len(), 1, "one whole-server backup");
        for (m, object) in new {
            template.stored.push(Stored {
                kind: Kind::WholeServer,
                generation: None,
                database: m.database,
                object,
                time: m.started_at,
            });
        }
    }

    /// The file holding the canary password of `engine`'s login.
    pub fn password_file(&self, engine: Engine) -> PathBuf {
        self.tmp.path().join(format!("{}-password", engine.short()))
    }

    /// `dbbr ARGS` logging in to `engine`'s server as the canary login
    /// (password from a file), against `remote` with prefix `p`.
    pub fn dbbr(&self, engine: Engine, remote: &str, args: &[&str]) -> Command {
        let mut cmd = dbbr();
        match engine {
            Engine::Pg => {
                pg::Server {
                    user: self.pg_role.clone(),
                    password: None,
                    ..pg::Server::shared()
                }
                .env(&mut cmd);
                cmd.env("PGPASSWORD_FILE", self.password_file(engine));
            }
            Engine::Maria => {
                for (k, _) in std::env::vars() {
                    if k.starts_with("MYSQL_") {
                        cmd.env_remove(k);
                    }
                }
                cmd.env("MYSQL_HOST", setting("DBBR_TEST_MYSQL_HOST"))
                    .env("MYSQL_TCP_PORT", setting("DBBR_TEST_MYSQL_PORT"))
                    .env("MYSQL_USER", &self.my_user)
                    .env("MYSQL_PWD_FILE", self.password_file(engine));
            }
        }
        cmd.env("REMOTE_NAME", remote)
            .env("UPLOAD_PREFIX", super::prefix::PREFIX)
            // A fault that repeats fails a command in seconds rather than
            // after rclone's ten tries (the S3 client still tries each
            // request three times).
            .env("RCLONE_LOW_LEVEL_RETRIES", "1")
            .args(args);
        cmd
    }

    /// The source database of a case: the usual one, or `all`.
    pub fn source(&self, special: bool) -> &str {
        if special {
            SPECIAL
        } else {
            &self.src
        }
    }
}

impl Canaries {
    fn new(tag: &str, notify_base: &str) -> Canaries {
        let pg_password = format!("cnry-pg-{tag}-Qx7");
        let my_password = format!("cnry-my-{tag}-Wz3");
        let token = format!("cnry-tok-{tag}-Hv5");
        let query = format!("cnry-qry-{tag}-Lm2");
        let notify_url = format!("{notify_base}/hook/{token}?key={query}");
        let secrets = [
            pg_password.clone(),
            my_password.clone(),
            token,
            query,
            setting("DBBR_TEST_S3C_SECRET_KEY"),
        ];
        let mut forms = Vec::new();
        for s in secrets {
            forms.push(base64::engine::general_purpose::STANDARD.encode(&s));
            forms.push(
                percent_encoding::utf8_percent_encode(&s, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            );
            forms.push(s);
        }
        Canaries {
            pg_password,
            my_password,
            notify_url,
            forms,
        }
    }

    /// The forms of a canary that `text` contains.
    pub fn found_in(&self, text: &str) -> Vec<String> {
        self.forms
            .iter()
            .filter(|f| text.contains(f.as_str()))
            .cloned()
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for engine in [Engine::Pg, Engine::Maria] {
            for db in [self.src.as_str(), self.other.as_str(), SPECIAL, "globals"] {
                let _ = std::panic::catch_unwind(|| dbs::drop_db(engine, db));
            }
        }
        let mut cmd = Command::new("psql");
        pg::Server::shared()
            .env(&mut cmd)
            .args(["-X", "-q", "-d", "postgres"]);
        let _ = feed(
            &mut cmd,
            format!("DROP ROLE IF EXISTS \"{}\";", self.pg_role).as_bytes(),
        );
        let _ = feed(
            &mut mariadb::Server::shared().client(),
            format!("DROP USER IF EXISTS '{}'@'127.0.0.1';", self.my_user).as_bytes(),
        );
    }
}

/// Sets the modification time of `path` to `age` ago.
pub fn age_file(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - age)
        .unwrap();
}

/// The backups that appeared under `prefixed` since `before`: manifest and
/// data object name.
fn new_backups(prefixed: &Path, before: &[String]) -> Vec<(Manifest, String)> {
    let mut out = Vec::new();
    for file in files_below(prefixed) {
        if before.contains(&file) || !file.ends_with(".manifest.json") {
            continue;
        }
        let text = std::fs::read_to_string(prefixed.join(&file)).unwrap();
        let m: Manifest = serde_json::from_str(&text).unwrap();
        let object = file.trim_end_matches(".manifest.json").to_string();
        assert!(prefixed.join(&object).exists(), "{object}");
        out.push((m, object));
    }
    out
}
