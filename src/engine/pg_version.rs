//! pg_dump refuses to dump a server of a newer major version, and a
//! container image with an old pg_dump is the most common cause of failed
//! PostgreSQL backups. A backup compares the two majors before it dumps and
//! names the version (and the image tag) that would work.

use std::fmt;

use crate::error::{Error, Result, Setting};

/// A PostgreSQL major version: `17`, or `9.6` before PostgreSQL 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Major(u32, u32);

impl fmt::Display for Major {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Major(major, 0) if *major >= 10 => write!(f, "{major}"),
            Major(major, minor) => write!(f, "{major}.{minor}"),
        }
    }
}

/// The major version in a `pg_dump --version` line (`pg_dump (PostgreSQL)
/// 15.8 (Debian 15.8-0+deb12u1)`), a `server_version` (`15.8 (Debian
/// 15.8-0+deb12u1)`, `18beta1`) or a `server_version_num` (`150008`).
pub(crate) fn major(text: &str) -> Option<Major> {
    let token = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))?;
    if token.len() >= 5 && token.chars().all(|c| c.is_ascii_digit()) {
        let num: u32 = token.parse().ok()?;
        return Some(if num >= 100_000 {
            Major(num / 10_000, 0)
        } else {
            Major(num / 10_000, num / 100 % 100)
        });
    }
    let mut numbers = token
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().ok());
    let first = numbers.next()??;
    Some(if first >= 10 {
        Major(first, 0)
    } else {
        Major(first, numbers.next().flatten()?)
    })
}

/// Refuses a pg_dump older than the server, naming both versions and the
/// image tag that fits. Versions that cannot be read are let through: the
/// dump itself then says what is wrong.
pub(crate) fn check_pg_dump(tool: Option<&str>, server: Option<&str>) -> Result<()> {
    let program = tool
        .and_then(|t| t.split_whitespace().next())
        .filter(|p| p.starts_with("pg_dump"))
        .unwrap_or("pg_dump");
    let (Some(tool), Some(server)) = (tool.and_then(major), server.and_then(major)) else {
        return Ok(());
    };
    if tool >= server {
        return Ok(());
    }
    Err(Error::config(
        Setting::DumpTool,
        format!(
            "{program} {tool} cannot dump a PostgreSQL {server} server: use {program} {server} or \
             newer (image tag postgresql-backup-rclone:{server})"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_of_tool_lines_and_server_versions() {
        let debian = "pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)";
        assert_eq!(major(debian), Some(Major(15, 0)));
        assert_eq!(major("pg_dump (PostgreSQL) 9.6.24"), Some(Major(9, 6)));
        assert_eq!(major("15.8 (Debian 15.8-0+deb12u1)"), Some(Major(15, 0)));
        assert_eq!(major("150008"), Some(Major(15, 0)));
        assert_eq!(major("170002"), Some(Major(17, 0)));
        assert_eq!(major("90624"), Some(Major(9, 6)));
        assert_eq!(major("18beta1"), Some(Major(18, 0)));
        assert_eq!(major("19devel"), Some(Major(19, 0)));
        assert_eq!(major("pg_dump (PostgreSQL)"), None);
        assert_eq!(major(""), None);
    }

    #[test]
    fn majors_compare_by_number() {
        assert!(Major(10, 0) > Major(9, 6));
        assert!(Major(9, 6) > Major(9, 5));
        assert!(Major(17, 0) > Major(9, 6));
        assert_eq!(Major(9, 6).to_string(), "9.6");
        assert_eq!(Major(17, 0).to_string(), "17");
    }

    #[test]
    fn an_older_pg_dump_is_refused_with_both_versions_and_the_tag() {
        let tool = "pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)";
        let err = check_pg_dump(Some(tool), Some("170002")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("pg_dump 15 cannot dump a PostgreSQL 17 server")
                && text.contains("use pg_dump 17 or newer")
                && text.contains("postgresql-backup-rclone:17"),
            "{text}"
        );
        let all = check_pg_dump(Some("pg_dumpall (PostgreSQL) 16.1"), Some("17.2"));
        let text = all.unwrap_err().to_string();
        assert!(text.contains("pg_dumpall 16 cannot dump"), "{text}");
        assert!(check_pg_dump(Some(tool), Some("15.2")).is_ok());
        assert!(check_pg_dump(Some(tool), Some("14.9 (Debian)")).is_ok());
        let newer = "pg_dump (PostgreSQL) 18.1";
        assert!(check_pg_dump(Some(newer), Some("17.6")).is_ok());
    }

    #[test]
    fn unknown_versions_are_let_through() {
        assert!(check_pg_dump(None, Some("17.2")).is_ok());
        assert!(check_pg_dump(Some("pg_dump (PostgreSQL) 15.8"), None).is_ok());
        assert!(check_pg_dump(Some("pg_dump"), Some("17.2")).is_ok());
    }
}
