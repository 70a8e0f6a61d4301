//! What every storage backend is put through, configured only by a recipe
//! of docs/storage.md (see `common::recipes`), with PostgreSQL as the database: backup,
//! list, restore and prune; an unreachable server and wrong credentials;
//! and an upload aborted mid-stream, checked through the server's own view
//! of what it holds (hidden files, unfinished uploads and uncommitted
//! blocks included).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::pg::*;
use crate::common::*;

/// One backend under test.
pub struct Backend {
    /// The recipe's variables: the storage settings and `UPLOAD_PREFIX`.
    pub vars: Vec<(String, String)>,
    /// Everything the server holds below the prefix, as it sees it: paths
    /// relative to the prefix, sorted, hidden files included; unfinished
    /// uploads as `unfinished:NAME`.
    pub server_view: Box<dyn Fn() -> Vec<String>>,
}

impl Backend {
    /// `dbbr ARGS` against the shared PostgreSQL server and this backend,
    /// with `vars` as the storage settings.
    fn cmd_with(vars: &[(String, String)], args: &[&str]) -> Command {
        let mut cmd = dbbr();
        Server::shared().env(&mut cmd);
        cmd.envs(vars.iter().map(|(k, v)| (k, v))).args(args);
        cmd
    }

    /// `dbbr ARGS` with the recipe's settings.
    pub fn cmd(&self, args: &[&str]) -> Command {
        Backend::cmd_with(&self.vars, args)
    }

    /// The object names `dbbr list` shows, newest first, with their states.
    fn listed(&self) -> Vec<(String, String)> {
        let out = exits(&mut self.cmd(&["list", "--json"]), 0);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        json["backups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["manifest"]["object"].as_str().unwrap().to_string(),
                    b["state"]["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Backup, list, restore and prune, checking the server's view after
    /// each step that changes it.
    pub fn round_trip(&self) {
        let db = TestDb::sample();
        let source = db.checksums();
        let names = [format!("{}-a", db.name), format!("{}-b", db.name)];
        for name in &names {
            succeed(
                self.cmd(&["backup", "postgresql"])
                    .env("BACKUP_DATABASES", &db.name)
                    .env("BACKUP_FILE_NAME", name),
            );
        }
        let files = |names: &[String]| -> Vec<String> {
            let mut v: Vec<String> = names
                .iter()
                .flat_map(|n| [format!("{n}.sql.gz"), format!("{n}.sql.gz.manifest.json")])
                .collect();
            v.sort();
            v
        };
        assert_eq!((self.server_view)(), files(&names), "after two backups");

        let ok = |n: &String| (format!("{n}.sql.gz"), "ok".to_string());
        assert_eq!(self.listed(), vec![ok(&names[1]), ok(&names[0])]);

        let copy = unique("pgcopy");
        let _guard = TestDb { name: copy.clone() };
        succeed(&mut self.cmd(&["restore", "--latest", &db.name, "--to", &copy, "--create"]));
        assert_eq!(Server::shared().checksums(&copy), source, "restored data");

        exits(&mut self.cmd(&["prune", "--keep-last", "1"]), 0);
        assert_eq!(self.listed(), vec![ok(&names[1])], "after prune");
        assert_eq!((self.server_view)(), files(&names[1..]), "after prune");
    }

    /// A backup with `vars` (the recipe's, one of them spoiled) fails
    /// within `limit` with exit 1 and one error line that contains each of
    /// `expected`, leaving nothing on the server.
    pub fn fails_cleanly(&self, what: &str, vars: &[(String, String)], expected: &[&str]) {
        let db = TestDb::small();
        let before = (self.server_view)();
        let start = Instant::now();
        let err = fail_with(
            Backend::cmd_with(vars, &["backup", "postgresql"]).env("BACKUP_DATABASES", &db.name),
            1,
        );
        let took = start.elapsed();
        let errors: Vec<&str> = err.lines().filter(|l| l.contains(" ERROR ")).collect();
        assert_eq!(errors.len(), 1, "{what}: one error line:\n{err}");
        for e in expected {
            assert!(errors[0].contains(e), "{what}: {e:?} not in:\n{err}");
        }
        assert!(took < Duration::from_secs(30), "{what} took {took:?}");
        assert_eq!((self.server_view)(), before, "{what} left something: {err}");
        eprintln!("{what}: exit 1 after {took:?}: {}", errors[0]);
    }

    /// Starts a backup whose dump sends several MiB and then hangs, waits
    /// until the upload is under way (`in_progress` of what is new in the
    /// server's view and of the files rclone spools locally, for backends
    /// that cannot stream), stops the run with SIGTERM and checks that the server holds
    /// just what it held before and no spool file is left.
    pub fn aborted_upload_leaves_nothing(
        &self,
        in_progress: impl Fn(&[String], &[String]) -> bool,
    ) {
        let db = TestDb::small();
        let tmp = tempfile::tempdir().unwrap();
        let bin = hanging_pg_dump(tmp.path());
        let spool = tmp.path().join("spool");
        std::fs::create_dir(&spool).unwrap();
        let before = (self.server_view)();
        let mut backup = self
            .cmd(&["backup", "postgresql"])
            .env("BACKUP_DATABASES", &db.name)
            .env("PATH", path_with(&bin))
            .env("TMPDIR", &spool)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut seen, mut spooled) = (Vec::new(), Vec::new());
        let under_way = wait_until(Duration::from_secs(60), || {
            seen = (self.server_view)()
                .into_iter()
                .filter(|f| !before.contains(f))
                .collect();
            spooled = files_below(&spool);
            // The dump has sent everything and hangs (its last step is a
            // `sleep`): the upload is past its start, whatever the backend.
            let dump_hangs = child_named(backup.id(), "sleep").is_some();
            (dump_hangs && in_progress(&seen, &spooled)) || backup.try_wait().unwrap().is_some()
        });
        assert!(
            under_way && backup.try_wait().unwrap().is_none(),
            "the upload never showed: {seen:?}, spooled {spooled:?}"
        );
        signal(backup.id(), "TERM");
        let out = wait_at_most(backup, Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(143), "{err}");
        assert_eq!((self.server_view)(), before, "left behind: {err}");
        assert_empty(&spool, &format!("spool files left: {err}"));
        eprintln!("aborted upload: showed {seen:?}, spooled {spooled:?}, then nothing new");
    }
}

/// A directory with a `pg_dump` that runs the real one, adds about 11 MiB
/// of incompressible comment lines (more than one upload chunk of every
/// backend) and then hangs: the upload is under way and never finished.
fn hanging_pg_dump(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = run_ok(Command::new("bash").args(["-c", "command -v pg_dump"]));
    write_executable(
        &bin.join("pg_dump"),
        &format!(
            "#!/bin/bash\ncase \" $* \" in *' --version '*) exec '{0}' \"$@\" ;; esac\n\
             '{0}' \"$@\" || exit 1\n\
             head -c 12000000 /dev/urandom | base64 -w 76 | sed 's/^/-- /'\n\
             exec sleep 120\n",
            real.trim()
        ),
    );
    bin
}

/// A free TCP port on loopback where nothing listens.
pub fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port().to_string()
}

/// Every file below `dir` (hidden ones included), or nothing if `dir` is
/// not there.
pub fn disk_view(dir: &Path) -> Vec<String> {
    files_below(dir)
}
