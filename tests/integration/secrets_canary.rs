//! The secrets canary: unique strings as every kind of secret dbbr is given
//! (database passwords by variable, password file and libpq's PGPASSFILE,
//! S3 secrets, an SSE-C key, connection-string secrets with `\` and `"`, an
//! HTTP header token, a WebDAV URL password), at the most verbose log levels,
//! in text and JSON, on success and failure paths and in `--help`. No
//! canary may show — as it is, quoted, escaped or encoded — in any output,
//! stored manifest, or dump tool's argv or environment (read from /proc
//! while the real pg_dump runs), except the database password in the one
//! place it must be: the dump tool's PGPASSWORD.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::common::pg::{backup_cmd_for, Server, TestDb};
use crate::common::*;
use crate::passwords::PgRole;
use crate::secrets::proc_file;

/// The canaries of one test run.
struct Canaries {
    pg_var: String,
    pg_file: String,
    pg_passfile: String,
    s3_secret: String,
    sse_key: String,
    conn_quoted: String,
    conn_token: String,
    header: String,
    dav: String,
}

impl Canaries {
    fn new() -> Canaries {
        let tag = unique("");
        Canaries {
            pg_var: format!("cnry-pgvar-{tag}"),
            pg_file: format!(r#"cnry pg"file\{tag}"#),
            pg_passfile: format!(r"cnry:pgpass\{tag}"),
            s3_secret: format!("cnry-s3-{tag}"),
            // 32 bytes for AES-256.
            sse_key: format!("{:-<32}", format!("cnrysse{tag}")),
            conn_quoted: format!(r#"cn\ry"conn-{tag}"#),
            conn_token: format!("cnry-conntok-{tag}"),
            header: format!("cnry-hdr-{tag}"),
            dav: format!("cnry-dav-{tag}"),
        }
    }

    fn all(&self) -> Vec<&str> {
        vec![
            &self.pg_var,
            &self.pg_file,
            &self.pg_passfile,
            &self.s3_secret,
            &self.sse_key,
            &self.conn_quoted,
            &self.conn_token,
            &self.header,
            &self.dav,
        ]
    }

    /// Every form a canary can take in output: as it is, quoted by Go,
    /// escaped in JSON, percent-encoded, base64 (the SSE-C key's header).
    fn forms(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.all() {
            out.push(c.to_string());
            out.push(c.replace('\\', "\\\\").replace('"', "\\\""));
            let json = serde_json::to_string(c).unwrap();
            out.push(json[1..json.len() - 1].to_string());
            out.push(utf8_percent_encode(c, NON_ALPHANUMERIC).to_string());
            out.push(base64::engine::general_purpose::STANDARD.encode(c));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A variable naming a password file, and the file.
type PasswordFile<'a> = Option<(&'a str, &'a Path)>;

/// Counts what the canary test looked at and what it found.
#[derive(Default)]
struct Tally {
    runs: usize,
    texts: usize,
    checks: usize,
    hits: Vec<String>,
}

impl Tally {
    /// Looks for every form of every canary in `text` (from `what`).
    fn scan(&mut self, canaries: &Canaries, what: &str, text: &str) {
        self.texts += 1;
        for form in canaries.forms() {
            self.checks += 1;
            if text.contains(&form) {
                self.hits
                    .push(format!("{what}: {form:?} in:\n{text:.2000}"));
            }
        }
    }

    fn output(&mut self, canaries: &Canaries, what: &str, out: &Output) {
        self.runs += 1;
        self.scan(
            canaries,
            &format!("{what} stdout"),
            &String::from_utf8_lossy(&out.stdout),
        );
        self.scan(canaries, &format!("{what} stderr"), &stderr(out));
    }
}

/// The most verbose logging, in `format`, by one of rclone's two ways.
fn verbose<'a>(cmd: &'a mut Command, format: &str, by_verbose_flag: bool) -> &'a mut Command {
    cmd.env("LOG_FORMAT", format)
        .env("RCLONE_DUMP", "headers")
        .env("RCLONE_LOW_LEVEL_RETRIES", "1")
        .env("RCLONE_RETRIES", "1");
    if by_verbose_flag {
        cmd.env("LOG_LEVEL", "trace").env("RCLONE_VERBOSE", "2")
    } else {
        cmd.env("LOG_LEVEL", "debug")
            .env("RCLONE_LOG_LEVEL", "DEBUG")
    }
}

/// Runs a backup while another session holds a lock on `db`'s table, so
/// that the real pg_dump waits: its argv and environment are read from
/// /proc then. Returns the output and what /proc showed.
fn sampled_backup(cmd: &mut Command, db: &str) -> (Output, String) {
    let lock = Server::shared().lock_table(db, "t");
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sample = String::new();
    let found = wait_until(Duration::from_secs(30), || {
        let Some(pid) = child_named(child.id(), "pg_dump") else {
            return false;
        };
        let cmdline = proc_file(pid, "cmdline");
        sample = format!("{cmdline}\n{}", proc_file(pid, "environ"));
        cmdline.contains(db)
    });
    drop(lock);
    let out = wait_at_most(child, Duration::from_secs(120));
    let err = stderr(&out);
    assert!(
        found,
        "no pg_dump to sample: {}",
        &err[err.len().saturating_sub(3000)..]
    );
    (out, sample)
}

/// Every file below `dir` as text (manifests, verification records).
fn stored_texts(dir: &Path) -> Vec<(String, String)> {
    files_below(dir)
        .into_iter()
        .filter(|f| f.ends_with(".json"))
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(&f)).unwrap();
            (f, text)
        })
        .collect()
}

#[test]
fn no_canary_shows_anywhere() {
    let c = Canaries::new();
    let mut tally = Tally::default();
    let db = TestDb::small();
    let role_var = PgRole::create(&c.pg_var);
    let role_file = PgRole::create(&c.pg_file);
    let role_passfile = PgRole::create(&c.pg_passfile);
    let tmp = tempfile::tempdir().unwrap();
    let password_file = tmp.path().join("pgpassword");
    write_private(&password_file, &format!("{}\n", c.pg_file));
    // libpq's password file: `:` and `\` escaped with `\`.
    let passfile = tmp.path().join("pgpass");
    let escaped = c.pg_passfile.replace('\\', "\\\\").replace(':', "\\:");
    write_private(
        &passfile,
        &format!("*:*:*:{}:{escaped}\n", role_passfile.name),
    );
    let bucket = unique("canary");
    let s3 = s3_remote(&bucket);
    // S3 signs its own Authorization header: the token goes in another.
    let header = format!("X-Api-Auth: Bearer {}", c.header);

    // Success: backups to S3 with each way of giving the password, every
    // log level and format, the real pg_dump sampled from /proc.
    let ways: [(&PgRole, &str, PasswordFile); 3] = [
        (&role_var, c.pg_var.as_str(), None),
        (
            &role_file,
            c.pg_file.as_str(),
            Some(("PGPASSWORD_FILE", &password_file)),
        ),
        (
            &role_passfile,
            c.pg_passfile.as_str(),
            Some(("PGPASSFILE", &passfile)),
        ),
    ];
    let mut n = 0;
    for (role, password, file) in ways {
        for (format, by_flag) in [("text", false), ("json", true)] {
            n += 1;
            let mut cmd = backup_cmd_for(&role.server(password));
            verbose(&mut cmd, format, by_flag)
                .env("REMOTE_NAME", &s3)
                .env("BACKUP_DATABASES", &db.name)
                .env("BACKUP_FILE_NAME", format!("${{DB}}-{n}.sql.gz"))
                .env("RCLONE_HEADER", &header);
            if let Some((var, path)) = file {
                cmd.env_remove("PGPASSWORD").env(var, path);
            }
            let (out, sample) = sampled_backup(&mut cmd, &db.name);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            tally.output(&c, "backup", &out);
            // The dump tool needs the database password: it gets it in
            // PGPASSWORD (or reads PGPASSFILE itself), and nowhere else.
            let own = format!("PGPASSWORD={password}");
            let given = sample.lines().filter(|l| *l == own).count();
            assert_eq!(
                given,
                usize::from(file.is_none_or(|(v, _)| v != "PGPASSFILE"))
            );
            let others: Vec<&str> = sample.lines().filter(|l| *l != own).collect();
            tally.scan(&c, "pg_dump argv and environment", &others.join("\n"));
        }
    }
    let stored = stored_texts(&s3_bucket_dir(&bucket));
    assert_eq!(stored.len(), 6, "six manifests: {stored:?}");

    // Success the way back: list, verify, restore, with the header.
    let copy = unique("pgcopy");
    let _guard = TestDb { name: copy.clone() };
    for (format, by_flag) in [("text", false), ("json", true)] {
        for args in [
            &["list"][..],
            &["verify", "--latest", &db.name],
            &["remote", "ls"],
            &["remote", "rc", "options/get"],
        ] {
            let mut cmd = dbbr();
            role_var.server(&c.pg_var).env(&mut cmd);
            verbose(&mut cmd, format, by_flag)
                .env("REMOTE_NAME", &s3)
                .env("RCLONE_HEADER", &header)
                .args(args);
            let out = exits(&mut cmd, 0);
            tally.output(&c, &format!("{args:?}"), &out);
        }
    }
    let mut restore = dbbr();
    role_file.server(&c.pg_file).env(&mut restore);
    verbose(&mut restore, "json", true)
        .env_remove("PGPASSWORD")
        .env("PGPASSWORD_FILE", &password_file)
        .env("REMOTE_NAME", &s3)
        .env("RCLONE_HEADER", &header)
        .args(["restore", "--latest", &db.name, "--to", &copy, "--create"]);
    let out = exits(&mut restore, 0);
    tally.output(&c, "restore", &out);
    for (name, text) in stored_texts(&s3_bucket_dir(&bucket)) {
        tally.scan(&c, &name, &text);
    }

    // Failure paths: secrets the storage refuses or cannot be reached with,
    // a wrong database password, an SSE-C key.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let failing_remotes = [
        format!(
            ":s3,provider=Rclone,endpoint='{}',access_key_id={},secret_access_key='{}':{bucket}",
            setting("DBBR_TEST_S3_ENDPOINT"),
            setting("DBBR_TEST_S3_ACCESS_KEY"),
            c.conn_quoted
        ),
        s3_remote_with_secret(&bucket, &c.s3_secret),
        format!(
            ":webdav,url='http://canary:{}@{closed}/dav',bearer_token={}:x",
            c.dav, c.conn_token
        ),
        "dav:x".to_string(),
    ];
    for remote in &failing_remotes {
        for (format, by_flag) in [("text", true), ("json", false)] {
            let mut cmd = backup_cmd_for(&role_var.server(&c.pg_var));
            verbose(&mut cmd, format, by_flag)
                .env("REMOTE_NAME", remote)
                .env("RCLONE_CONFIG_DAV_TYPE", "webdav")
                .env(
                    "RCLONE_CONFIG_DAV_URL",
                    format!("http://canary:{}@{closed}/", c.dav),
                )
                .env("RCLONE_HEADER", &header)
                .env("BACKUP_DATABASES", &db.name);
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(1), "{remote}: {}", stderr(&out));
            tally.output(&c, &format!("failing backup to {remote:.30}"), &out);
        }
    }
    for (format, by_flag) in [("text", false), ("json", true)] {
        let mut cmd = backup_cmd_for(&role_var.server(&c.pg_file));
        verbose(&mut cmd, format, by_flag)
            .env("REMOTE_NAME", &s3)
            .env("BACKUP_DATABASES", &db.name);
        let out = run(&mut cmd);
        assert_eq!(
            out.status.code(),
            Some(1),
            "wrong password: {}",
            stderr(&out)
        );
        tally.output(&c, "wrong database password", &out);

        let mut cmd = backup_cmd_for(&role_var.server(&c.pg_var));
        verbose(&mut cmd, format, by_flag)
            .env("REMOTE_NAME", &s3)
            .env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", format!("sse-{format}.sql.gz"))
            .env("RCLONE_S3_SSE_CUSTOMER_ALGORITHM", "AES256")
            .env("RCLONE_S3_SSE_CUSTOMER_KEY", &c.sse_key);
        let out = run(&mut cmd);
        tally.output(&c, "SSE-C backup", &out);
    }

    // Help, with every canary in the environment.
    for args in [
        &["--help"][..],
        &["backup", "postgresql", "--help"],
        &["restore", "--help"],
        &["remote", "ls", "--help"],
    ] {
        let mut cmd = dbbr();
        cmd.env("REMOTE_NAME", &failing_remotes[0])
            .env("PGPASSWORD", &c.pg_var)
            .env("RCLONE_HEADER", &header)
            .env("RCLONE_S3_SSE_CUSTOMER_KEY", &c.sse_key)
            .env(
                "RCLONE_CONFIG_DAV_URL",
                format!("http://canary:{}@h/", c.dav),
            )
            .args(args);
        let out = exits(&mut cmd, 0);
        tally.output(&c, &format!("{args:?}"), &out);
    }

    println!(
        "secrets canary: {} canaries in {} forms; {} runs, {} texts scanned \
         (outputs, manifests, /proc samples), {} checks, {} hits",
        c.all().len(),
        c.forms().len(),
        tally.runs,
        tally.texts,
        tally.checks,
        tally.hits.len()
    );
    assert!(
        tally.hits.is_empty(),
        "canaries showed:\n{}",
        tally.hits.join("\n\n")
    );
}

/// Canaries of the sweep: one per secret-bearing setting.
struct Sweep {
    /// (what, canary) pairs.
    canaries: Vec<(&'static str, String)>,
    /// Extra forms to look for (base64 of `user:password`, ...).
    extra: Vec<String>,
}

impl Sweep {
    fn new() -> Sweep {
        let tag = unique("");
        let names = [
            "pg-var",
            "pg-file",
            "mysql-pwd",
            "store-secret",
            "named-option",
            "conn-option",
            "dav-pass",
            "az-key",
            "sas-sig",
            "header",
            "ping-pw",
            "ping-tok",
            "hook-tok",
            "push-pw",
            "unparsed",
        ];
        Sweep {
            canaries: names
                .iter()
                .map(|n| (*n, format!("cnry{}{tag}", n.replace('-', ""))))
                .collect(),
            extra: Vec::new(),
        }
    }

    fn get(&self, what: &str) -> &str {
        &self.canaries.iter().find(|(w, _)| *w == what).unwrap().1
    }

    /// Every form of every canary: as it is, JSON-escaped, percent-encoded,
    /// base64; and the extra forms.
    fn forms(&self) -> Vec<String> {
        let mut out = self.extra.clone();
        for (_, c) in &self.canaries {
            out.push(c.clone());
            out.push(utf8_percent_encode(c, NON_ALPHANUMERIC).to_string());
            out.push(base64::engine::general_purpose::STANDARD.encode(c));
        }
        out
    }
}

/// Every command, at LOG_LEVEL=trace with rclone's most verbose logging
/// and request dumps, in text and JSON, on success and failure paths, with
/// a canary in every secret-bearing setting: database passwords by
/// variable and file (PostgreSQL and MariaDB), RCLONE_CONFIG_*_SECRET_ACCESS_KEY / PASS / KEY /
/// SAS_URL, options of named remotes and connection strings, RCLONE_HEADER,
/// notification URLs with a password and tokens, a Pushgateway URL with a
/// password. No canary may show on stdout or stderr.
#[test]
fn every_command_at_trace_shows_no_canary() {
    let mut s = Sweep::new();
    let db = TestDb::small();
    let role = PgRole::create(s.get("pg-var"));
    let file_role = PgRole::create(s.get("pg-file"));
    let tmp = tempfile::tempdir().unwrap();
    let password_file = tmp.path().join("pw");
    write_private(&password_file, &format!("{}\n", s.get("pg-file")));
    let maria_user = crate::passwords::MariaUser::create(s.get("mysql-pwd"));
    let maria_db = mariadb::TestDb::sample(false);
    let maria_password_file = tmp.path().join("mysql-pw");
    write_private(&maria_password_file, &format!("{}\n", s.get("mysql-pwd")));
    let bucket = unique("sweep");
    let _ = s3_remote(&bucket);
    let real_secret = setting("DBBR_TEST_S3_SECRET_KEY");
    let server = Recorder::start(200);
    let ping_host = server.url.trim_start_matches("http://").to_string();
    let ping = format!(
        "http://pinger:{}@{ping_host}/ping/{}",
        s.get("ping-pw"),
        s.get("ping-tok")
    );
    let hook = format!("{}/hook/{}", server.url, s.get("hook-tok"));
    let push = format!("http://pusher:{}@{ping_host}/gw", s.get("push-pw"));
    s.extra.push(
        base64::engine::general_purpose::STANDARD.encode(format!("pinger:{}", s.get("ping-pw"))),
    );
    s.extra.push(
        base64::engine::general_purpose::STANDARD.encode(format!("pusher:{}", s.get("push-pw"))),
    );
    s.extra.push(
        base64::engine::general_purpose::STANDARD.encode(format!("dav:{}", s.get("dav-pass"))),
    );
    let obscured_dav = {
        let out = feed(
            dbbr().args(["remote", "obscure"]),
            s.get("dav-pass").as_bytes(),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let az_key = base64::engine::general_purpose::STANDARD.encode(s.get("az-key"));
    s.extra.push(az_key.clone());
    // `store` is the test S3 server with a canary for its secret, which
    // the named remote's option overrides with the real one.
    let store_env = [
        ("RCLONE_CONFIG_STORE_TYPE", "s3".to_string()),
        ("RCLONE_CONFIG_STORE_PROVIDER", "Rclone".into()),
        (
            "RCLONE_CONFIG_STORE_ENDPOINT",
            setting("DBBR_TEST_S3_ENDPOINT"),
        ),
        (
            "RCLONE_CONFIG_STORE_ACCESS_KEY_ID",
            setting("DBBR_TEST_S3_ACCESS_KEY"),
        ),
        (
            "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY",
            s.get("store-secret").to_string(),
        ),
        ("RCLONE_CONFIG_DAV_TYPE", "webdav".into()),
        ("RCLONE_CONFIG_DAV_URL", format!("http://{ping_host}/dav")),
        ("RCLONE_CONFIG_DAV_USER", "dav".into()),
        ("RCLONE_CONFIG_DAV_PASS", obscured_dav),
        ("RCLONE_CONFIG_AZ_TYPE", "azureblob".into()),
        ("RCLONE_CONFIG_AZ_ACCOUNT", "sweepaccount".into()),
        ("RCLONE_CONFIG_AZ_KEY", az_key),
        ("RCLONE_CONFIG_AZ_ENDPOINT", format!("http://{closed}")),
        ("RCLONE_CONFIG_AZS_TYPE", "azureblob".into()),
        (
            "RCLONE_CONFIG_AZS_SAS_URL",
            format!(
                "http://{closed}/c?sv=2022-11-02&ss=b&srt=sco&sp=rwdl&sig={}",
                s.get("sas-sig")
            ),
        ),
        (
            "RCLONE_HEADER",
            format!("X-Api-Auth: Bearer {}", s.get("header")),
        ),
        ("MYSQL_PWD", s.get("mysql-pwd").to_string()),
    ];
    let named = format!("store,secret_access_key='{real_secret}':{bucket}");
    let with_env = |cmd: &mut Command, format: &str| {
        cmd.envs(store_env.iter().map(|(k, v)| (k, v)))
            .env("LOG_LEVEL", "trace")
            .env("LOG_FORMAT", format)
            .env("RCLONE_VERBOSE", "2")
            .env("RCLONE_DUMP", "headers,auth")
            .env("RCLONE_LOW_LEVEL_RETRIES", "1")
            .env("RCLONE_RETRIES", "1")
            .env("RCLONE_CONTIMEOUT", "5s")
            .env("RCLONE_TIMEOUT", "10s");
    };
    let mut outputs: Vec<(String, Output)> = Vec::new();
    for format in ["text", "json"] {
        // A backup with everything: pings, webhook, metrics, keep policy,
        // verification after it.
        let mut backup = backup_cmd_for(&role.server(s.get("pg-var")));
        with_env(&mut backup, format);
        backup
            .env("REMOTE_NAME", &named)
            .env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", format!("${{DB}}-{format}-var"))
            .env("BACKUP_KEEP_LAST", "5")
            .env("VERIFY_AFTER_BACKUP", "true")
            .env("NOTIFY_PING_URL", &ping)
            .env("NOTIFY_WEBHOOK_URL", &hook)
            .env("METRICS_PUSHGATEWAY_URL", &push);
        let out = run(&mut backup);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        outputs.push((format!("backup {format}"), out));
        // The same by password file, and `check`, in text and JSON.
        for args in [
            &["backup", "postgresql"][..],
            &["check", "postgresql"],
            &["check", "postgresql", "--json"],
        ] {
            let mut cmd = dbbr();
            file_role.server(s.get("pg-file")).env(&mut cmd);
            with_env(&mut cmd, format);
            cmd.env_remove("PGPASSWORD")
                .env("PGPASSWORD_FILE", &password_file)
                .env("REMOTE_NAME", &named)
                .env("BACKUP_DATABASES", &db.name)
                .env("BACKUP_FILE_NAME", format!("${{DB}}-{format}-file"))
                .env("NOTIFY_PING_URL", &ping)
                .env("NOTIFY_WEBHOOK_URL", &hook)
                .env("METRICS_PUSHGATEWAY_URL", &push)
                .args(args);
            let out = run(&mut cmd);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?}: {}\n{}",
                stderr(&out),
                String::from_utf8_lossy(&out.stdout)
            );
            outputs.push((format!("{args:?} {format}"), out));
        }
        // MariaDB, the password by variable and by file.
        for by_file in [false, true] {
            let mut cmd = dbbr();
            mariadb::over_tcp(&mut cmd);
            with_env(&mut cmd, format);
            cmd.args(["backup", "mariadb"])
                .env("MYSQL_USER", &maria_user.name)
                .env("MYSQL_PWD", s.get("mysql-pwd"))
                .env("REMOTE_NAME", &named)
                .env("BACKUP_DATABASES", &maria_db.name)
                .env("BACKUP_FILE_NAME", format!("${{DB}}-{format}-{by_file}"))
                .env("NOTIFY_WEBHOOK_URL", &hook);
            if by_file {
                cmd.env_remove("MYSQL_PWD")
                    .env("MYSQL_PWD_FILE", &maria_password_file);
            }
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(0), "mariadb: {}", stderr(&out));
            outputs.push((format!("mariadb backup {format} {by_file}"), out));
        }
        // A restore, the password by file.
        let copy = unique("sweepcopy");
        let _copy = TestDb { name: copy.clone() };
        let mut cmd = dbbr();
        file_role.server(s.get("pg-file")).env(&mut cmd);
        with_env(&mut cmd, format);
        cmd.env_remove("PGPASSWORD")
            .env("PGPASSWORD_FILE", &password_file)
            .env("REMOTE_NAME", &named)
            .args(["restore", "--latest", &db.name, "--to", &copy, "--create"]);
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(0), "restore: {}", stderr(&out));
        outputs.push((format!("restore {format}"), out));
        // What acts on what is stored.
        for args in [
            &["list"][..],
            &["list", "--json", "--all"],
            &["verify", "--latest", &db.name],
            &["verify", "--all", "--quick"],
            &["prune", "--keep-last", "5", "--dry-run"],
            &["prune", "--keep-last", "5", "--orphans-older-than", "30d"],
            &["remote", "ls", "-R"],
            &["remote", "rc", "options/get"],
            &["remote", "rc", "config/dump"],
        ] {
            let mut cmd = dbbr();
            role.server(s.get("pg-var")).env(&mut cmd);
            with_env(&mut cmd, format);
            cmd.env("REMOTE_NAME", &named)
                .env("METRICS_PUSHGATEWAY_URL", &push)
                .args(args);
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            outputs.push((format!("{args:?} {format}"), out));
        }
        // Failure paths: storage that refuses or cannot be reached with
        // each kind of secret, a connection string with a secret option,
        // and settings refused with a secret in them.
        for remote in [
            "dav:x".to_string(),
            "az:c".to_string(),
            "azs:c".to_string(),
            format!("store:{bucket}"),
            format!(
                ":s3,provider=Other,endpoint='http://{closed}',access_key_id=a,secret_access_key={}:b",
                s.get("conn-option")
            ),
            format!("store,secret_access_key={}:{bucket}", s.get("named-option")),
        ] {
            let mut cmd = backup_cmd_for(&role.server(s.get("pg-var")));
            with_env(&mut cmd, format);
            cmd.env("REMOTE_NAME", &remote)
                .env("BACKUP_DATABASES", &db.name)
                .env("NOTIFY_PING_URL", &ping)
                .env("METRICS_PUSHGATEWAY_URL", &push);
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(1), "{remote}: {}", stderr(&out));
            outputs.push((format!("failing backup to {remote:.12} {format}"), out));
            let mut cmd = dbbr();
            with_env(&mut cmd, format);
            cmd.env("REMOTE_NAME", &remote).args(["list"]);
            outputs.push((format!("failing list of {remote:.12} {format}"), run(&mut cmd)));
        }
        for (var, value) in [
            (
                "REMOTE_NAME",
                format!("store,secret_access_key={},bad key=1:x", s.get("unparsed")),
            ),
            (
                "REMOTE_NAME",
                format!(":s3,secret_access_key='{}", s.get("unparsed")),
            ),
            (
                "NOTIFY_PING_URL",
                format!("ftp://u:{}@h/{}", s.get("unparsed"), s.get("unparsed")),
            ),
            (
                "METRICS_PUSHGATEWAY_URL",
                format!("http://u:{}@", s.get("unparsed")),
            ),
        ] {
            let mut cmd = backup_cmd_for(&role.server(s.get("pg-var")));
            with_env(&mut cmd, format);
            cmd.env("REMOTE_NAME", &named)
                .env("BACKUP_DATABASES", &db.name)
                .env(var, &value);
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(2), "{var}: {}", stderr(&out));
            outputs.push((format!("refused {var} {format}"), out));
        }
    }
    // The notifications were sent (so their requests were made, and could
    // have been logged).
    let received = server.received();
    assert!(
        received.iter().any(|r| r.path.contains(s.get("ping-tok")))
            && received.iter().any(|r| r.path.contains(s.get("hook-tok")))
            && received.iter().any(|r| r.path.starts_with("/gw/metrics")),
        "{:?}",
        received.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let forms = s.forms();
    let mut hits = Vec::new();
    for (what, out) in &outputs {
        let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(out));
        for form in &forms {
            if text.contains(form.as_str()) {
                let at = text.find(form.as_str()).unwrap();
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(300)
                    .map_or(0, |(i, _)| i);
                let context: String = text[from..].chars().take(600).collect();
                hits.push(format!("{what}: {form}:\n{context}"));
            }
        }
    }
    println!(
        "secrets sweep: {} canaries ({} forms) in {} runs at trace level: {} hits",
        s.canaries.len(),
        forms.len(),
        outputs.len(),
        hits.len()
    );
    assert!(hits.is_empty(), "canaries showed:\n{}", hits.join("\n\n"));
}
