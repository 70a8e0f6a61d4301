//! `BACKUP_DATABASES=*`: every database of a server, each in its own file,
//! with `BACKUP_EXCLUDE`, `BACKUP_GLOBALS` and `BACKUP_PARALLELISM`, and the
//! restore that replays the globals first. Each test has a server of its
//! own, so that the listing holds only the test's databases.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// The objects (without manifests) below `dir`, sorted.
fn objects(dir: &Path) -> Vec<String> {
    files_below(dir)
        .into_iter()
        .filter(|f| !f.ends_with(".manifest.json"))
        .collect()
}

/// `name-STAMP.sql.gz` -> `STAMP`.
fn stamp(object: &str) -> &str {
    let base = object.strip_suffix(".sql.gz").unwrap();
    &base[base.len() - "2026-01-02T03-04-05Z".len()..]
}

mod postgres {
    use super::*;
    use crate::common::pg::*;

    fn dbbr_to(cluster: &Cluster, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = dbbr();
        cluster.server.env(&mut cmd);
        cmd.env("REMOTE_NAME", local_remote(dir)).args(args);
        cmd
    }

    fn role_and_owner(server: &Server, db: &str) -> String {
        server.psql(
            db,
            "SELECT r.rolname || ':' || r.rolcanlogin || ':' || t.tableowner \
             FROM pg_roles r JOIN pg_tables t ON t.tableowner = r.rolname \
             WHERE t.tablename = 'owned'",
        )
    }

    /// The users are roles, which own tables.
    #[test]
    fn every_database_goes_to_its_own_file_and_users_come_back_first() {
        let origin = Cluster::start();
        let server = &origin.server;
        for db in ["app_one", "app_two", "scratch_1", "scratch_2"] {
            server.create_database(db);
        }
        server.fill_sample("app_one");
        server.psql(
            "app_one",
            "CREATE ROLE app_owner LOGIN PASSWORD 'owner-Pw-1'; \
             CREATE TABLE owned (id int); INSERT INTO owned VALUES (1), (2); \
             ALTER TABLE owned OWNER TO app_owner;",
        );
        let source = server.checksums("app_one");
        let tmp = tempfile::tempdir().unwrap();
        succeed(
            backup_cmd_for(server)
                .env("REMOTE_NAME", local_remote(tmp.path()))
                .env("BACKUP_DATABASES", "*")
                .env("BACKUP_EXCLUDE", "scratch_*, postgres")
                .env("BACKUP_GLOBALS", "true")
                .env("BACKUP_PARALLELISM", "2"),
        );
        let stored = objects(tmp.path());
        let names: Vec<&str> = stored
            .iter()
            .map(|o| o.split('-').next().unwrap())
            .collect();
        // No template, nothing excluded; globals too.
        assert_eq!(names, ["app_one", "app_two", "globals"], "{stored:?}");
        // One run, one timestamp.
        assert!(
            stored.iter().all(|o| stamp(o) == stamp(&stored[0])),
            "{stored:?}"
        );
        let globals = read_manifest(tmp.path(), &stored[2]);
        assert!(
            globals.globals && globals.database == "globals",
            "{globals:?}"
        );
        assert!(!read_manifest(tmp.path(), &stored[0]).globals);
        let sql = gunzipped(&tmp.path().join(&stored[2]));
        assert!(sql.contains("CREATE ROLE app_owner;"), "{sql}");

        // A restore drill of every object: the globals are checked in full,
        // never replayed into the server the drill runs on.
        let out = exits(
            &mut dbbr_to(
                &origin,
                tmp.path(),
                &[
                    "verify",
                    "--all",
                    "--restore-into",
                    "drill_scratch",
                    "--no-record",
                ],
            ),
            0,
        );
        let text = stderr(&out);
        assert_eq!(
            text.matches("): ok, restore: restored into").count(),
            2,
            "{text}"
        );
        assert!(text.contains("(globals): ok, full: "), "{text}");

        // Into a new server: the role comes back first, then the database
        // it owns a table of.
        let target = Cluster::start();
        let err = fail_with(
            &mut dbbr_to(
                &target,
                tmp.path(),
                &[
                    "restore", "--latest", "app_one", "--to", "app_one", "--create",
                ],
            ),
            1,
        );
        assert!(err.contains("app_owner"), "{err}");
        succeed(&mut dbbr_to(
            &target,
            tmp.path(),
            &[
                "restore",
                "--latest",
                "app_one",
                "--to",
                "app_one",
                "--create",
                "--with-globals",
            ],
        ));
        assert_eq!(target.server.checksums("app_one"), source);
        assert_eq!(
            role_and_owner(&target.server, "app_one").trim(),
            "app_owner:true:app_owner"
        );
        // Replaying the globals again keeps the roles that exist.
        let again = succeed(&mut dbbr_to(
            &target,
            tmp.path(),
            &["restore", &stored[2], "--to-server"],
        ));
        assert!(again.status.success());
        // A globals backup is not a database's.
        let err = fail_with(
            &mut dbbr_to(&target, tmp.path(), &["restore", &stored[2], "--to", "x"]),
            2,
        );
        assert!(err.contains("into the server"), "{err}");
    }

    #[test]
    fn a_listing_that_leaves_nothing_is_refused_before_any_dump() {
        let cluster = Cluster::start();
        let tmp = tempfile::tempdir().unwrap();
        let err = fail_with(
            backup_cmd_for(&cluster.server)
                .env("REMOTE_NAME", local_remote(tmp.path()))
                .env("BACKUP_DATABASES", "*")
                .env("BACKUP_EXCLUDE", "*"),
            1,
        );
        assert!(
            err.contains("no database left") && err.contains("postgres"),
            "{err}"
        );
        assert_empty(tmp.path(), "after a refused run");

        // `dbbr check` lists them as the backup would, and probes each.
        cluster.server.create_database("app");
        let out = exits(
            dbbr_to(&cluster, tmp.path(), &["check", "postgresql"])
                .env("BACKUP_DATABASES", "*")
                .env("BACKUP_GLOBALS", "true"),
            0,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("to back up: globals, app, postgres"),
            "{text}"
        );
        assert_eq!(text.matches("reachable, server").count(), 3, "{text}");
        assert_empty(tmp.path(), "after a check");
    }

    #[test]
    fn settings_of_every_database_are_checked_before_any_io() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, marker) = tripwire_tools(tmp.path());
        for (vars, says) in [
            (vec![("BACKUP_DATABASES", "*,app")], "give it alone"),
            (
                vec![("BACKUP_DATABASES", "app"), ("BACKUP_EXCLUDE", "x")],
                "BACKUP_DATABASES=*",
            ),
            (
                vec![("BACKUP_DATABASES", "*"), ("BACKUP_EXCLUDE", "[")],
                "BACKUP_EXCLUDE",
            ),
            (
                vec![("BACKUP_DATABASES", "*"), ("BACKUP_FILE_NAME", "x-%Y")],
                "$DB",
            ),
            (
                vec![("BACKUP_DATABASES", "*"), ("BACKUP_PARALLELISM", "0")],
                "BACKUP_PARALLELISM",
            ),
            (
                vec![("BACKUP_DATABASES", "*"), ("BACKUP_PARALLELISM", "two")],
                "whole number",
            ),
            (
                vec![("BACKUP_DATABASES", "*"), ("UPLOAD_MAX_PARTS", "20000")],
                "UPLOAD_MAX_PARTS",
            ),
            (
                vec![("BACKUP_ALL", "true"), ("BACKUP_GLOBALS", "true")],
                "globals",
            ),
        ] {
            let mut cmd = backup_to(tmp.path());
            cmd.env("PATH", &path);
            for (k, v) in &vars {
                cmd.env(k, v);
            }
            let err = fail_with(&mut cmd, 2);
            assert!(err.contains(says), "{vars:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(!marker.exists(), "{vars:?}: a database tool ran");
        }
    }
}

mod mariadb {
    use super::*;
    use crate::common::mariadb::*;

    /// `dbbr ARGS -- --no-defaults` as root over the instance's socket (the
    /// system's option files may name another socket).
    fn dbbr_on(instance: &Instance, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = dbbr();
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("MYSQL_UNIX_PORT", instance.server().socket())
            .env("MYSQL_USER", "root")
            .env("REMOTE_NAME", local_remote(dir))
            .args(args)
            .args(["--", "--no-defaults"]);
        cmd
    }

    #[test]
    fn every_database_goes_to_its_own_file_and_users_come_back_first() {
        let instance = Instance::start();
        let server = instance.server();
        // mariadb-dump --system=users cannot show the anonymous accounts
        // mariadb-install-db creates for the host name; servers set up for
        // use have them removed (mariadb-secure-installation).
        server.sql("DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES;");
        for db in ["shop", "stats", "tmp_a"] {
            server.sql(&sample_sql(db, false));
        }
        // Tables only: a view cannot move into place at once.
        server.sql("DROP VIEW shop.city_events;");
        server.sql(
            "CREATE USER 'reporter'@'localhost' IDENTIFIED BY 'rep-Pw-2'; \
             GRANT SELECT ON shop.* TO 'reporter'@'localhost';",
        );
        let source = server.checksums("shop");
        let tmp = tempfile::tempdir().unwrap();
        succeed(
            dbbr_on(&instance, tmp.path(), &["backup", "mariadb"])
                .env("BACKUP_DATABASES", "*")
                .env("BACKUP_EXCLUDE", "tmp_?")
                .env("BACKUP_GLOBALS", "true")
                .env("BACKUP_PARALLELISM", "3"),
        );
        let stored = objects(tmp.path());
        let names: Vec<&str> = stored
            .iter()
            .map(|o| o.split('-').next().unwrap())
            .collect();
        // No information_schema, performance_schema, sys or mysql.
        assert_eq!(names, ["globals", "shop", "stats"], "{stored:?}");
        assert!(
            stored.iter().all(|o| stamp(o) == stamp(&stored[0])),
            "{stored:?}"
        );

        server.sql("DROP USER 'reporter'@'localhost'; DROP DATABASE shop;");
        succeed(&mut dbbr_on(
            &instance,
            tmp.path(),
            &[
                "restore",
                "--latest",
                "shop",
                "--to",
                "shop",
                "--create",
                "--with-globals",
            ],
        ));
        assert_eq!(server.checksums("shop"), source);
        let grants = server.sql("SHOW GRANTS FOR 'reporter'@'localhost'");
        assert!(grants.contains("GRANT SELECT ON `shop`.*"), "{grants}");
    }
}
