//! Passwords with every character a shell, a URL, libpq or MariaDB treats
//! specially (`$!'"\:` and spaces) work end to end: backup and restore.

use std::process::Command;

use crate::common::*;

/// A password with `$!'"\:`, spaces, and a unique tail.
pub fn awkward_password(tag: &str) -> String {
    format!(r#"p$ss! 'q"uo\te:d {tag}"#)
}

/// A PostgreSQL login role (superuser) with `password`, dropped on drop.
pub struct PgRole {
    pub name: String,
}

impl PgRole {
    pub fn create(password: &str) -> PgRole {
        let name = unique("pgrole");
        let mut cmd = Command::new("psql");
        pg::Server::shared().env(&mut cmd).args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            &format!("pw={password}"),
            "-d",
            "postgres",
        ]);
        let sql = format!("CREATE ROLE \"{name}\" LOGIN SUPERUSER PASSWORD :'pw';");
        let out = feed(&mut cmd, sql.as_bytes());
        assert!(out.status.success(), "{}", stderr(&out));
        PgRole { name }
    }

    /// The shared server, logging in as this role with `password`.
    pub fn server(&self, password: &str) -> pg::Server {
        pg::Server {
            user: self.name.clone(),
            password: Some(password.to_string()),
            ..pg::Server::shared()
        }
    }
}

impl Drop for PgRole {
    fn drop(&mut self) {
        let mut cmd = Command::new("psql");
        pg::Server::shared()
            .env(&mut cmd)
            .args(["-X", "-q", "-d", "postgres"]);
        let _ = feed(
            &mut cmd,
            format!("DROP ROLE IF EXISTS \"{}\";", self.name).as_bytes(),
        );
    }
}

/// A MariaDB user with `password` and every privilege, dropped on drop.
pub struct MariaUser {
    pub name: String,
}

impl MariaUser {
    pub fn create(password: &str) -> MariaUser {
        let name = unique("myuser");
        let quoted = password.replace('\\', "\\\\").replace('\'', "''");
        let mut sql = String::new();
        for host in ["%", "localhost", "127.0.0.1"] {
            sql.push_str(&format!(
                "CREATE USER '{name}'@'{host}' IDENTIFIED BY '{quoted}'; \
                 GRANT ALL PRIVILEGES ON *.* TO '{name}'@'{host}';\n"
            ));
        }
        crate::common::mariadb::Server::shared().sql(&sql);
        MariaUser { name }
    }
}

impl Drop for MariaUser {
    fn drop(&mut self) {
        let mut sql = String::new();
        for host in ["%", "localhost", "127.0.0.1"] {
            sql.push_str(&format!("DROP USER IF EXISTS '{}'@'{host}';\n", self.name));
        }
        let _ = feed(
            &mut crate::common::mariadb::Server::shared().client(),
            sql.as_bytes(),
        );
    }
}

mod postgres {
    use super::*;
    use crate::common::pg::*;

    #[test]
    fn backup_and_restore_with_an_awkward_password() {
        let password = awkward_password("pg-e2e");
        let role = PgRole::create(&password);
        let server = role.server(&password);
        let db = TestDb::sample();
        let source = Server::shared().checksums(&db.name);
        let tmp = tempfile::tempdir().unwrap();
        // The password by variable for the backup...
        let out = succeed(
            backup_cmd_for(&server)
                .env("REMOTE_NAME", local_remote(tmp.path()))
                .env("BACKUP_DATABASES", &db.name),
        );
        assert!(!stderr(&out).contains(&password));
        // ...and by file for the restore.
        let file = tmp.path().join("pw");
        write_private(&file, &format!("{password}\n"));
        let copy = unique("pgcopy");
        let _guard = TestDb { name: copy.clone() };
        let mut restore = dbbr();
        server.env(&mut restore);
        succeed(
            restore
                .env_remove("PGPASSWORD")
                .env("PGPASSWORD_FILE", &file)
                .env("REMOTE_NAME", local_remote(tmp.path()))
                .args(["restore", "--latest", &db.name, "--to", &copy, "--create"]),
        );
        assert_eq!(Server::shared().checksums(&copy), source);
    }
}

mod mariadb {
    use super::*;
    use crate::common::mariadb::*;

    #[test]
    fn backup_and_restore_with_an_awkward_password() {
        let password = awkward_password("my-e2e");
        let user = MariaUser::create(&password);
        let db = TestDb::tables_only();
        let server = Server::shared();
        let source = server.checksums(&db.name);
        let tmp = tempfile::tempdir().unwrap();
        let tcp = |cmd: &mut Command| {
            over_tcp(cmd).env("MYSQL_USER", &user.name);
        };
        let mut backup = backup_to(tmp.path());
        tcp(&mut backup);
        succeed(
            backup
                .env("MYSQL_PWD", &password)
                .env("BACKUP_DATABASES", &db.name),
        );
        let file = tmp.path().join("pw");
        write_private(&file, &format!("{password}\n"));
        let copy = unique("mycopy");
        let _guard = TestDb { name: copy.clone() };
        let mut restore = dbbr();
        tcp(&mut restore);
        succeed(
            restore
                .env_remove("MYSQL_PWD")
                .env("MYSQL_PWD_FILE", &file)
                .env("REMOTE_NAME", local_remote(tmp.path()))
                .args(["restore", "--latest", &db.name, "--to", &copy, "--create"]),
        );
        assert_eq!(server.checksums(&copy), source);
    }
}
