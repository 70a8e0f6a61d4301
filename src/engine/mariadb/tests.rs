//! Unit tests of `mariadb`.

use super::*;
use crate::dump::tests::{args_of, env_of, strings};

fn db(name: &str) -> Target {
    Target::Database(name.to_string())
}

fn settings(user: Option<&str>, host: Option<&str>) -> Settings {
    Settings {
        dump_program: "mariadb-dump",
        client_program: "mariadb",
        user: user.map(str::to_string),
        host: host.map(str::to_string),
    }
}

fn maria(target: &Target, extra: &[&str], user: Option<&str>) -> DumpCommand {
    dump_command(
        &settings(user, None),
        target,
        &strings(extra),
        &Connection::default(),
    )
}

#[test]
fn dumps_to_a_file_are_refused_in_every_spelling() {
    for args in [
        &["--result-file=/tmp/x"][..],
        &["--result=/tmp/x"],
        &["-r", "/tmp/x"],
        &["-r/tmp/x"],
        &["--tab=/tmp"],
        &["-T", "/tmp"],
    ] {
        let err = MariaDb.check_dump_args(&strings(args)).unwrap_err();
        assert_eq!(err.setting(), Some(Setting::DumpArgs), "{args:?}");
    }
    // `--tables` is not `--tab`.
    MariaDb
        .check_dump_args(&strings(&["--tables", "--routines"]))
        .unwrap();
}

#[test]
fn mariadb_database_and_all() {
    let cmd = maria(&db("shop"), &["--routines"], None);
    assert_eq!(cmd.program(), "mariadb-dump");
    assert_eq!(
        cmd.args(),
        ["--single-transaction", "--databases", "shop", "--routines"]
    );
    let cmd = maria(&Target::All, &["--events"], None);
    assert_eq!(
        cmd.args(),
        ["--single-transaction", "--all-databases", "--events"]
    );
}

#[test]
fn mariadb_name_like_an_option() {
    let cmd = maria(&db("-x"), &["--routines"], None);
    assert_eq!(
        cmd.args(),
        [
            "--single-transaction",
            "--databases",
            "--routines",
            "--",
            "-x"
        ]
    );
}

#[test]
fn mariadb_option_file_options_go_first() {
    let cmd = maria(
        &db("shop"),
        &[
            "--routines",
            "--defaults-extra-file=/etc/x.cnf",
            "--no-defaults",
            "--defaults-group-suffix=_b",
            "--defaults-file=/etc/my.cnf",
            "--events",
        ],
        Some("backup"),
    );
    assert_eq!(
        cmd.args(),
        [
            "--defaults-extra-file=/etc/x.cnf",
            "--no-defaults",
            "--defaults-group-suffix=_b",
            "--defaults-file=/etc/my.cnf",
            "--user=backup",
            "--single-transaction",
            "--databases",
            "shop",
            "--routines",
            "--events",
        ]
    );
}

#[test]
fn mariadb_user_from_env() {
    let cmd = maria(&Target::All, &[], Some("backup"));
    assert_eq!(
        cmd.args(),
        ["--user=backup", "--single-transaction", "--all-databases"]
    );
    for extra in [
        ["-u", "root"],
        ["-uroot", "-v"],
        ["--user", "root"],
        ["--user=root", "-v"],
    ] {
        let cmd = maria(&Target::All, &extra, Some("backup"));
        assert!(
            !cmd.args().contains(&"--user=backup".to_string()),
            "{extra:?}"
        );
        assert_eq!(cmd.args()[2..], strings(&extra));
    }
    // After `--` an argument is a name, not an option.
    let cmd = maria(&Target::All, &["--", "-u"], Some("backup"));
    assert_eq!(cmd.args()[0], "--user=backup");
}

#[test]
fn mariadb_host_from_env() {
    let build = |extra: &[&str]| {
        dump_command(
            &settings(Some("backup"), Some("db.internal")),
            &db("shop"),
            &strings(extra),
            &Connection::default(),
        )
    };
    assert_eq!(
        build(&["--defaults-extra-file=/etc/x.cnf"]).args(),
        [
            "--defaults-extra-file=/etc/x.cnf",
            "--user=backup",
            "--host=db.internal",
            "--single-transaction",
            "--databases",
            "shop",
        ]
    );
    for extra in [
        ["-h", "other"],
        ["-hother", "-v"],
        ["--host", "other"],
        ["--host=other", "-v"],
    ] {
        let cmd = build(&extra);
        assert!(
            !cmd.args().contains(&"--host=db.internal".to_string()),
            "{extra:?}"
        );
    }
    // `--hex-blob` is not a host, and after `--` nothing is an option.
    assert!(build(&["--hex-blob"])
        .args()
        .contains(&"--host=db.internal".to_string()));
    assert!(build(&["--", "-h"])
        .args()
        .contains(&"--host=db.internal".to_string()));
}

#[test]
fn password_stays_out_of_args_and_debug() {
    let conn = Connection {
        password: Some("hunter2-secret".into()),
        ..Connection::default()
    };
    let mut s = settings(Some("u"), None);
    s.dump_program = "mysqldump";
    for target in [db("shop"), Target::All] {
        let cmd = dump_command(&s, &target, &[], &conn);
        assert_eq!(cmd.program(), "mysqldump");
        assert!(!cmd.args().iter().any(|a| a.contains("hunter2")));
        let debug = format!("{cmd:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("MYSQL_PWD=***"), "{debug}");
        assert_eq!(
            cmd.password_env(),
            Some(&("MYSQL_PWD", "hunter2-secret".to_string()))
        );
    }
}

#[test]
fn missing_program_says_what_to_install() {
    let mut cmd = maria(&Target::All, &[], None);
    cmd.set_program("mariadb-dump-dbbr-missing", &[]);
    let err = cmd.spawn().unwrap_err().to_string();
    assert!(err.contains("mariadb-client"), "{err}");
}

#[test]
fn version_probe() {
    let conn = Connection {
        password: Some("probe-secret".into()),
        ..Connection::default()
    };
    let dump_args = strings(&["--routines", "--defaults-extra-file=/etc/x.cnf"]);
    let cmd = version_command(&settings(Some("backup"), Some("db")), &conn, &dump_args);
    assert_eq!(cmd.get_program(), "mariadb");
    assert_eq!(
        args_of(&cmd),
        [
            "--defaults-extra-file=/etc/x.cnf",
            "--user=backup",
            "--host=db",
            "--connect-timeout=10",
            "-N",
            "-B",
            "-e",
            "SELECT VERSION()"
        ]
    );
    assert_eq!(env_of(&cmd, "MYSQL_PWD").as_deref(), Some("probe-secret"));
    let mut s = settings(None, None);
    s.client_program = "mysql";
    let cmd = version_command(&s, &Connection::default(), &[]);
    assert_eq!(cmd.get_program(), "mysql");
    assert_eq!(args_of(&cmd)[0], "--connect-timeout=10");
}

#[test]
fn quoting() {
    assert_eq!(literal(r"it's \ok"), r"'it\'s \\ok'");
    assert_eq!(identifier("a`b"), "`a``b`");
}

/// The test command installs the MariaDB client, which has
/// `mariadb-dump` and `mariadb`: those are picked, not the fallbacks.
#[test]
fn programs_from_path() {
    let s = Settings::from_env();
    assert_eq!(s.dump_program, "mariadb-dump");
    assert_eq!(s.client_program, "mariadb");
    let v = MariaDb.tool_version(false).unwrap();
    assert!(v.contains("mariadb-dump"), "{v}");
}
