//! The manifest written next to each backup once its data object has
//! committed: the commit marker that listing, pruning and verification
//! trust. A data object without its manifest is not a finished backup.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decode::Expected;
use crate::encode::Codec;
use crate::error::{Error, Result, Stage};
use crate::evidence::{DumpFormat, Evidence};

/// Suffix of a manifest's object name, after the data object's name.
pub const MANIFEST_SUFFIX: &str = ".manifest.json";

/// The largest manifest dbbr writes or reads (and verification record it
/// reads): a dump's evidence names every table with its rows, about 50
/// bytes each, so a database of a million tables fits; a larger object
/// under a manifest's name is not dbbr's.
pub const MANIFEST_LIMIT: u64 = 64 << 20;

/// Suffix of a verification record's name, after the data object's name.
pub const VERIFIED_SUFFIX: &str = ".verified.json";

/// How thoroughly a backup was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VerifyLevel {
    /// The object exists and its size and SHA-256 match the manifest.
    Quick,
    /// Also decrypted and decompressed in full; row counts and the
    /// completion line match the manifest.
    Full,
    /// Also restored into a scratch database, row counts compared.
    Restore,
}

impl std::fmt::Display for VerifyLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerifyLevel::Quick => "quick",
            VerifyLevel::Full => "full",
            VerifyLevel::Restore => "restore",
        })
    }
}

/// The record `verify` writes next to a backup (`NAME.verified.json`), so
/// that `list` can show when each backup was last proven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verification {
    /// When the check finished.
    pub verified_at: DateTime<Utc>,
    /// How far it went.
    pub level: VerifyLevel,
    /// Whether the backup passed.
    pub ok: bool,
    /// What failed, or a summary of what was checked.
    pub detail: String,
}

/// What a backup holds, as its manifest says: a name never decides it (a
/// database may be called `all` or `globals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// One database (`pg_dump`, `mariadb-dump --databases`), restored into
    /// a database.
    Database,
    /// A whole server (`pg_dumpall`, `mariadb-dump --all-databases`),
    /// restored into the server.
    Server,
    /// What belongs to the server rather than to a database: roles and
    /// tablespaces, or MariaDB's users and grants; replayed into the server.
    Globals,
    /// One database as a parallel backup set: many objects taken at one
    /// snapshot (see [`SetLayout`]), restored into a new or empty database.
    Set,
}

impl Kind {
    /// `database`, `server` or `globals`, as manifests write it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Database => "database",
            Kind::Server => "server",
            Kind::Globals => "globals",
            Kind::Set => "set",
        }
    }

    /// Whether a backup of this kind is restored into the server rather
    /// than into one database.
    pub fn into_server(self) -> bool {
        !self.of_one_database()
    }

    /// Whether a backup of this kind holds one database (a single object
    /// or a set): retention and lookups count both kinds as that
    /// database's backups.
    pub fn of_one_database(self) -> bool {
        matches!(self, Kind::Database | Kind::Set)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What is known about one backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// The dbbr version that wrote it.
    pub dbbr_version: String,
    /// The embedded rclone's version.
    pub rclone_version: String,
    /// `postgresql` or `mariadb`.
    pub engine: String,
    /// What the backup holds (format 3; see [`Manifest::kind`] for older
    /// manifests).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "kind")]
    pub declared_kind: Option<Kind>,
    /// The database, or the label of a server-wide backup: `all` for a
    /// whole server, `globals` for the globals.
    pub database: String,
    /// The data object's name, relative to the remote path and prefix.
    pub object: String,
    /// The server's version, if it could be read.
    pub server_version: Option<String>,
    /// The dump tool's `--version` line, if it could be read.
    pub dump_tool: Option<String>,
    /// When the dump started.
    pub started_at: DateTime<Utc>,
    /// When the data object committed.
    pub finished_at: DateTime<Utc>,
    /// Bytes the dump tool produced.
    pub raw_bytes: u64,
    /// Bytes stored (after compression and encryption).
    pub stored_bytes: u64,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    /// Compression codec (`gzip`).
    pub codec: String,
    /// Whether the data is age-encrypted.
    pub encrypted: bool,
    /// Fingerprints of the recipients it is encrypted to.
    pub recipients: Vec<String>,
    /// What the dump was seen to contain while it streamed: its format,
    /// rows per table, whether its completion line was there (format 2;
    /// absent in format 1 manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump: Option<Evidence>,
    /// The id of the run that wrote it, as in its log lines, notifications
    /// and metrics (absent in manifests written before run ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Whether this is a dump of what belongs to the server rather than to
    /// a database: roles and tablespaces, or MariaDB's users and grants.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub globals: bool,
    /// A set's snapshot and parts (kind [`Kind::Set`] only): `object` is
    /// then the set's name, a folder holding the parts, and `sha256` the
    /// SHA-256 of the parts' `sha256sum` lines (see [`SetLayout::digest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<SetLayout>,
}

/// How a parallel backup set was cut, and what each part holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetLayout {
    /// The exported snapshot every part was read at.
    pub snapshot: String,
    /// How many parts streamed at once.
    pub jobs: usize,
    /// Tables larger than this (bytes, by `pg_relation_size`) were cut
    /// into page ranges.
    pub split_size: u64,
    /// Whether the server could read page ranges (TID range scans,
    /// PostgreSQL 14+); without them large tables stayed whole.
    pub tid_ranges: bool,
    /// The parts, in restore order: pre-data, data, tables, post-data.
    pub parts: Vec<SetPart>,
}

impl SetLayout {
    /// The SHA-256 of the parts' `sha256sum` lines (`HASH  OBJECT\n`, in
    /// order): one hash for the set, as a set manifest's `sha256`.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in &self.parts {
            hash.update(format!("{}  {}\n", part.sha256, part.object));
        }
        hex::encode(hash.finalize())
    }

    /// Row counts per table, summed over the parts.
    pub fn rows(&self) -> std::collections::BTreeMap<String, u64> {
        let mut rows = std::collections::BTreeMap::new();
        for part in &self.parts {
            for (table, n) in &part.rows {
                *rows.entry(table.clone()).or_insert(0) += n;
            }
        }
        rows
    }
}

/// What one part of a set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Section {
    /// `pg_dump --section=pre-data`: the schema before the data (SQL).
    PreData,
    /// `pg_dump --section=data` without the tables that have parts of
    /// their own: small tables, sequence values, large objects (SQL).
    Data,
    /// One table, or one page range of it, as a `COPY ... FROM stdin`
    /// block (SQL).
    Table,
    /// `pg_dump --section=post-data` as a custom archive: indexes,
    /// constraints, triggers, built by `pg_restore -j`.
    PostData,
}

/// One object of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetPart {
    /// The object's name, relative to the remote path and prefix.
    pub object: String,
    /// What it holds.
    pub section: Section,
    /// The table ([`Section::Table`]), quoted as SQL writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The page range `[first, end)` of a table cut into ranges; no end
    /// (`null`) for the last range, which reads to the table's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<(u64, Option<u64>)>,
    /// Rows per table in the part, as counted while it streamed.
    #[serde(default)]
    pub rows: std::collections::BTreeMap<String, u64>,
    /// Bytes the dump produced.
    pub raw_bytes: u64,
    /// Bytes stored.
    pub stored_bytes: u64,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
}

impl SetPart {
    /// What the manifest records about the part's object, for a
    /// [`Decoder`](crate::Decoder) to check.
    pub fn expected(&self) -> Expected {
        Expected {
            sha256: Some(self.sha256.clone()),
            stored_bytes: Some(self.stored_bytes),
            raw_bytes: Some(self.raw_bytes),
        }
    }
}

impl Manifest {
    /// The current manifest format: 3 says what the backup holds (`kind`).
    pub const FORMAT: u32 = 3;

    /// What the manifest records about the data object, for a
    /// [`Decoder`](crate::Decoder) to check.
    pub fn expected(&self) -> Expected {
        Expected {
            sha256: Some(self.sha256.clone()),
            stored_bytes: Some(self.stored_bytes),
            raw_bytes: Some(self.raw_bytes),
        }
    }

    /// The codec the data object was compressed with; one this dbbr does
    /// not read is an [`Error::Decode`] at [`Stage::Decompress`].
    pub fn stored_codec(&self) -> Result<Codec> {
        match self.codec.as_str() {
            "gzip" | "zstd" | "none" => Codec::from_name(&self.codec, None),
            other => Err(Error::Decode {
                stage: Stage::Decompress,
                message: format!(
                    "the manifest's codec `{}` is not one this dbbr reads (gzip, zstd, none): \
                     restore with the dbbr version that wrote the backup",
                    other.escape_debug()
                ),
            }),
        }
    }

    /// What the backup holds. Manifests before format 3 did not say: for
    /// them, `globals: true` is a globals dump and the database `all` a
    /// whole-server dump (the names those versions gave them).
    pub fn kind(&self) -> Kind {
        match self.declared_kind {
            Some(kind) => kind,
            None if self.globals => Kind::Globals,
            None if self.database == "all" => Kind::Server,
            None => Kind::Database,
        }
    }

    /// Whether the dump is a PostgreSQL custom or tar archive (restored with
    /// `pg_restore`) rather than SQL text.
    pub fn is_archive(&self) -> bool {
        self.dump
            .as_ref()
            .is_some_and(|d| d.format != DumpFormat::Plain)
    }

    /// The manifest's object name for a data object.
    pub fn object_name(data_object: &str) -> String {
        format!("{data_object}{MANIFEST_SUFFIX}")
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format 3 manifest's JSON with `kind` (a `"kind":...,` field or
    /// nothing), of `database`, with `globals`.
    fn json(kind: &str, database: &str, globals: bool) -> String {
        format!(
            r#"{{"format":3,"dbbr_version":"0.1.0","rclone_version":"v1","engine":"postgresql",
            {kind}"database":"{database}","object":"x.sql.gz","server_version":null,
            "dump_tool":null,"started_at":"2026-01-01T00:00:00Z",
            "finished_at":"2026-01-01T00:00:01Z","raw_bytes":1,"stored_bytes":1,
            "sha256":"ab","codec":"gzip","encrypted":false,"recipients":[],"globals":{globals}}}"#
        )
    }

    #[test]
    fn expected_from_manifest() {
        let now = Utc::now();
        let manifest = Manifest {
            set: None,
            format: Manifest::FORMAT,
            dbbr_version: "0.1.0".into(),
            rclone_version: "v1.76.0".into(),
            engine: "postgresql".into(),
            declared_kind: None,
            database: "app".into(),
            object: "app.sql.gz".into(),
            server_version: None,
            dump_tool: None,
            started_at: now,
            finished_at: now,
            raw_bytes: 10,
            stored_bytes: 5,
            sha256: "ab".repeat(32),
            codec: "gzip".into(),
            encrypted: false,
            recipients: vec![],
            dump: None,
            run_id: None,
            globals: false,
        };
        assert_eq!(
            manifest.expected(),
            Expected {
                sha256: Some("ab".repeat(32)),
                stored_bytes: Some(5),
                raw_bytes: Some(10),
            }
        );
    }

    #[test]
    fn an_unknown_codec_is_a_decompress_error() {
        let mut m: Manifest =
            serde_json::from_str(&json(r#""kind":"database","#, "a", false)).unwrap();
        assert_eq!(m.stored_codec().unwrap(), Codec::default());
        m.codec = "lz4".into();
        let message = match m.stored_codec() {
            Err(
                e @ Error::Decode {
                    stage: Stage::Decompress,
                    ..
                },
            ) => e.to_string(),
            other => panic!("expected a decompress error, got {other:?}"),
        };
        assert!(
            message
                .starts_with("decompress: the manifest's codec `lz4` is not one this dbbr reads"),
            "{message}"
        );
    }

    #[test]
    fn round_trips_through_json() {
        let now = Utc::now();
        let m = Manifest {
            set: None,
            format: 1,
            dbbr_version: "0.1.0".into(),
            rclone_version: "v1.76.0".into(),
            engine: "postgresql".into(),
            declared_kind: None,
            database: "app".into(),
            object: "app.sql.gz".into(),
            server_version: Some("15.1".into()),
            dump_tool: None,
            started_at: now,
            finished_at: now,
            raw_bytes: 10,
            stored_bytes: 5,
            sha256: "ab".into(),
            codec: "gzip".into(),
            encrypted: false,
            recipients: vec![],
            dump: None,
            run_id: None,
            globals: false,
        };
        let back: Manifest = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(back, m);
        let mut two = m.clone();
        two.format = 2;
        two.run_id = Some("0123456789abcdef".into());
        two.dump = Some(Evidence {
            format: DumpFormat::Plain,
            raw_bytes: 10,
            completion_line: Some(true),
            completion: None,
            rows: [("public.t".to_string(), 3)].into(),
        });
        let back: Manifest = serde_json::from_str(&two.to_json()).unwrap();
        assert_eq!(back, two);
        assert_eq!(
            Manifest::object_name("a/b.sql.gz"),
            "a/b.sql.gz.manifest.json"
        );
    }

    #[test]
    fn kinds_come_from_the_manifest() {
        let kind_of = |json: String| serde_json::from_str::<Manifest>(&json).unwrap().kind();
        // Declared: the name does not matter.
        assert_eq!(
            kind_of(json(r#""kind":"database","#, "all", false)),
            Kind::Database
        );
        assert_eq!(
            kind_of(json(r#""kind":"database","#, "globals", false)),
            Kind::Database
        );
        assert_eq!(
            kind_of(json(r#""kind":"server","#, "all", false)),
            Kind::Server
        );
        assert_eq!(
            kind_of(json(r#""kind":"globals","#, "globals", true)),
            Kind::Globals
        );
        // Before format 3, by the names those versions wrote.
        assert_eq!(kind_of(json("", "all", false)), Kind::Server);
        assert_eq!(kind_of(json("", "globals", true)), Kind::Globals);
        assert_eq!(kind_of(json("", "app", false)), Kind::Database);
        assert_eq!(kind_of(json(r#""kind":"set","#, "a", false)), Kind::Set);
        assert!(Kind::Set.of_one_database() && !Kind::Set.into_server());
        // A kind this dbbr does not know is no manifest it can trust.
        assert!(serde_json::from_str::<Manifest>(&json(r#""kind":"cube","#, "a", false)).is_err());
    }
}
