//! A case's storage: a copy of the template under prefix `p` of a fresh
//! local directory or S3 bucket, with the case's damage or foreign files,
//! and what each file is (so that the invariants know what may change).
//! Objects of the S3 bucket are files of the server's directory: they are
//! laid out and read back there, never through the proxy.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::common::*;

use super::dbs::Sums;
use super::plan::{Case, Engine, Fault, ManifestDamage, ObjectDamage, Storage, STORED};
use super::world::{age_file, Kind, World};

/// The prefix every case works under.
pub const PREFIX: &str = "p";

/// How far a stored backup is intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Intact,
    /// Same size, other bytes: it lists as intact; reading it tells.
    Flipped,
    /// The manifest names a missing object.
    Missing,
    /// The object has another size than the manifest says.
    SizeMismatch,
    /// The manifest cannot be read.
    Unreadable,
}

impl Health {
    /// Whether a listing (names and sizes) shows it as intact.
    pub fn lists_ok(self) -> bool {
        matches!(self, Health::Intact | Health::Flipped)
    }
}

/// A backup in the case's prefix.
#[derive(Debug, Clone)]
pub struct Known {
    pub engine: Engine,
    pub kind: Kind,
    pub database: String,
    /// Data object, relative to the prefix.
    pub object: String,
    pub time: DateTime<Utc>,
    pub generation: Option<(usize, Sums)>,
    pub health: Health,
}

impl Known {
    /// Its files, relative to the storage root: data, manifest, record.
    pub fn data(&self) -> String {
        format!("{PREFIX}/{}", self.object)
    }
    pub fn manifest(&self) -> String {
        format!("{PREFIX}/{}.manifest.json", self.object)
    }
    pub fn record(&self) -> String {
        format!("{PREFIX}/{}.verified.json", self.object)
    }
}

/// What a file laid out before the case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A manifest or data object of known backup number N.
    Backup(usize),
    /// Not dbbr's: never to be touched.
    Foreign,
    /// A leftover of dbbr's, old: orphan clean-up may remove it.
    Leftover,
    /// Named like dbbr's but young (a live run's claim, a backup-named
    /// object written a moment ago): never to be touched.
    Young,
    /// Outside the prefix: never to be touched.
    Outside,
}

/// A case's storage, laid out.
pub struct Layout {
    /// Where the storage's root is on this machine.
    pub root: PathBuf,
    /// REMOTE_NAME for dbbr.
    pub remote: String,
    pub storage: Storage,
    /// Every file laid out, relative to the root, and what it is.
    pub files: BTreeMap<String, Role>,
    pub known: Vec<Known>,
}

/// Path (relative to the storage root) -> size and SHA-256 of every file.
pub type Snapshot = BTreeMap<String, (u64, String)>;

impl Layout {
    /// Copies the template(s) of `case` into fresh storage and applies the
    /// case's damage.
    pub fn build(world: &World, case: &Case) -> Layout {
        let (root, remote) = match case.storage {
            Storage::Local => {
                let root = world.tmp.path().join(format!("case{}", case.number));
                let _ = std::fs::remove_dir_all(&root);
                (root.clone(), local_remote(&root))
            }
            Storage::S3 => {
                let bucket = unique("chaos");
                create_bucket(&bucket);
                (
                    s3c_bucket_dir(&bucket),
                    s3c_remote_at(&world.proxy.url(), &bucket),
                )
            }
        };
        std::fs::create_dir_all(root.join(PREFIX)).unwrap();
        let mut layout = Layout {
            root,
            remote,
            storage: case.storage,
            files: BTreeMap::new(),
            known: Vec::new(),
        };
        let mut engines = vec![case.engine];
        if case.fault == Fault::BothEngines {
            engines.push(match case.engine {
                Engine::Pg => Engine::Maria,
                Engine::Maria => Engine::Pg,
            });
        }
        for engine in engines {
            let template = world.template(engine, case.special());
            for stored in &template.stored {
                let n = layout.known.len();
                let known = Known {
                    engine,
                    kind: stored.kind,
                    database: stored.database.clone(),
                    object: stored.object.clone(),
                    time: stored.time,
                    generation: stored.generation.clone(),
                    health: Health::Intact,
                };
                for (from, to) in [
                    (stored.object.clone(), known.data()),
                    (format!("{}.manifest.json", stored.object), known.manifest()),
                ] {
                    let from = template.dir.join(PREFIX).join(&from);
                    std::fs::copy(from, layout.root.join(&to)).unwrap();
                    // Written a day ago, as backups usually were: older
                    // than any orphan age.
                    age_file(&layout.root.join(&to), Duration::from_secs(86_400));
                    layout.files.insert(to, Role::Backup(n));
                }
                layout.known.push(known);
            }
        }
        match case.fault {
            Fault::Manifest(damage, which) => {
                let n = layout.source_backup(case.engine, which);
                layout.damage_manifest(n, damage);
            }
            Fault::Object(damage, which) => {
                let n = layout.source_backup(case.engine, which);
                layout.damage_object(n, damage);
            }
            Fault::Foreign => layout.add_foreign(world.source(false)),
            _ => {}
        }
        layout
    }

    /// The known number of the source database's stored backup `which`
    /// (oldest first) of `engine`.
    pub fn source_backup(&self, engine: Engine, which: usize) -> usize {
        let mut of_source: Vec<usize> = (0..self.known.len())
            .filter(|&n| self.known[n].engine == engine && self.known[n].generation.is_some())
            .collect();
        of_source.sort_by_key(|&n| self.known[n].time);
        assert_eq!(of_source.len(), STORED);
        of_source[which]
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn damage_manifest(&mut self, n: usize, damage: ManifestDamage) {
        let path = self.path(&self.known[n].manifest());
        let text = std::fs::read_to_string(&path).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let damaged = match damage {
            ManifestDamage::BadJson => {
                "{\"format\": 2, \"engine\": \"postgresql\", oops".to_string()
            }
            ManifestDamage::Truncated => text[..text.len() / 2].to_string(),
            ManifestDamage::Oversize => {
                json["padding"] = "x".repeat(65 << 20).into();
                json.to_string()
            }
            ManifestDamage::SizeNegative => {
                json["stored_bytes"] = (-1).into();
                json.to_string()
            }
            ManifestDamage::SizeHuge => {
                json["stored_bytes"] = 1e30.into();
                json.to_string()
            }
        };
        std::fs::write(&path, damaged).unwrap();
        self.known[n].health = Health::Unreadable;
    }

    fn damage_object(&mut self, n: usize, damage: ObjectDamage) {
        let relative = self.known[n].data();
        let path = self.path(&relative);
        let mut bytes = std::fs::read(&path).unwrap();
        match damage {
            ObjectDamage::Missing => {
                std::fs::remove_file(&path).unwrap();
                self.files.remove(&relative);
                self.known[n].health = Health::Missing;
            }
            ObjectDamage::Truncated => {
                bytes.truncate(bytes.len() / 2);
                std::fs::write(&path, bytes).unwrap();
                self.known[n].health = Health::SizeMismatch;
            }
            ObjectDamage::Flipped => {
                let at = bytes.len().saturating_sub(20);
                bytes[at] ^= 0x01;
                std::fs::write(&path, bytes).unwrap();
                self.known[n].health = Health::Flipped;
            }
        }
    }

    /// Files dbbr did not write, files named like its own, and leftovers of
    /// its own, old and young.
    fn add_foreign(&mut self, src: &str) {
        let day = Duration::from_secs(86_400);
        let soon = (Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H-%M-%SZ");
        let verification =
            r#"{"verified_at":"2001-01-05T00:00:00Z","level":"quick","ok":true,"detail":"x"}"#;
        let files: Vec<(String, &[u8], Role, bool)> = vec![
            (
                "p/schema.sql".into(),
                b"CREATE TABLE mine (id int);\n",
                Role::Foreign,
                true,
            ),
            ("p/photos.tar".into(), &[7u8; 3000], Role::Foreign, true),
            (
                "p/dump.sql.gz.age".into(),
                b"age-encryption.org/v1\n-> X25519 another tool\n",
                Role::Foreign,
                true,
            ),
            (
                "p/.foo.partial".into(),
                b"someone else's upload",
                Role::Foreign,
                true,
            ),
            (
                "p/.bar.claim".into(),
                b"someone else's lock",
                Role::Foreign,
                true,
            ),
            ("p/notes/readme.txt".into(), b"keep me", Role::Foreign, true),
            (
                "outside.sql.gz".into(),
                b"\x1f\x8b outside the prefix",
                Role::Outside,
                true,
            ),
            (
                format!("p/{src}-2001-01-01T00-00-00Z.sql.gz"),
                b"\x1f\x8b a backup-named object without manifest",
                Role::Leftover,
                true,
            ),
            (
                format!("p/.{src}-2001-01-02T00-00-00Z.sql.gz.0123456789ab.partial"),
                b"an unfinished upload of dbbr's",
                Role::Leftover,
                true,
            ),
            (
                format!("p/.{src}-2001-01-03T00-00-00Z.sql.gz.0123456789ab.claim"),
                b"{\"host\":\"gone\",\"pid\":1}",
                Role::Leftover,
                true,
            ),
            (
                format!("p/{src}-2001-01-04T00-00-00Z.sql.gz.verified.json"),
                verification.as_bytes(),
                Role::Leftover,
                true,
            ),
            (
                format!("p/.{src}-{soon}.sql.gz.abcdef012345.claim"),
                b"{\"host\":\"live\",\"pid\":1}",
                Role::Young,
                false,
            ),
            (
                format!("p/{src}-2099-12-31T00-00-00Z.sql.gz"),
                b"\x1f\x8b a backup-named object written a moment ago",
                Role::Young,
                false,
            ),
        ];
        for (relative, bytes, role, old) in files {
            let path = self.path(&relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            if old {
                age_file(&path, day);
            }
            self.files.insert(relative, role);
        }
    }

    /// Every file of the storage now (an S3 server's own state excluded).
    pub fn snapshot(&self) -> Snapshot {
        files_below(&self.root)
            .into_iter()
            .filter(|f| !f.starts_with(".sgwtmp"))
            .filter_map(|f| {
                let bytes = std::fs::read(self.root.join(&f)).ok()?;
                Some((f, (bytes.len() as u64, sha256(&bytes))))
            })
            .collect()
    }

    /// The known backup whose file (data, manifest or record) is
    /// `relative`, if any.
    pub fn owner(&self, relative: &str) -> Option<usize> {
        self.known.iter().position(|k| {
            relative == k.data() || relative == k.manifest() || relative == k.record()
        })
    }

    /// Removes the storage.
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Creates `bucket` on the S3 server through its API (a bucket that is
/// only a directory of the server's is refused writes), empty.
fn create_bucket(bucket: &str) {
    let marker = ".chaos-bucket";
    let out = feed(
        dbbr()
            .env("REMOTE_NAME", s3c_remote(bucket))
            .args(["remote", "put", marker]),
        b"",
    );
    assert!(
        out.status.success(),
        "creating bucket {bucket}: {}",
        stderr(&out)
    );
    std::fs::remove_file(s3c_bucket_dir(bucket).join(marker)).unwrap();
}
