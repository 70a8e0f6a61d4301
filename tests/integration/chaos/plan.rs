//! What one case is: a lifecycle command, an engine, a storage and one
//! fault, all drawn from the run's seed and the case's number.

use std::fmt;

use crate::common::RequestKind;

use super::rng::Rng;

/// The lifecycle commands the matrix drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cmd {
    Backup,
    Restore,
    Verify,
    List,
    Prune,
    PruneOrphans,
    Check,
}

impl Cmd {
    pub const ALL: [Cmd; 7] = [
        Cmd::Backup,
        Cmd::Restore,
        Cmd::Verify,
        Cmd::List,
        Cmd::Prune,
        Cmd::PruneOrphans,
        Cmd::Check,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cmd::Backup => "backup",
            Cmd::Restore => "restore",
            Cmd::Verify => "verify",
            Cmd::List => "list",
            Cmd::Prune => "prune",
            Cmd::PruneOrphans => "prune-orphans",
            Cmd::Check => "check",
        }
    }

    /// Whether the command runs a database client or dump tool as a child
    /// that a fault can kill.
    pub fn has_child(self) -> bool {
        matches!(self, Cmd::Backup | Cmd::Restore)
    }
}

/// The database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Engine {
    Pg,
    Maria,
}

impl Engine {
    /// The engine as dbbr's command line and manifests name it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Pg => "postgresql",
            Engine::Maria => "mariadb",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Engine::Pg => "pg",
            Engine::Maria => "mariadb",
        }
    }

    /// The child processes a fault may kill during `cmd`: the dump tool
    /// of a backup, the client of a restore.
    pub fn children(self, cmd: Cmd) -> &'static [&'static str] {
        match (self, cmd) {
            (Engine::Pg, Cmd::Backup) => &["pg_dump", "pg_dumpall"],
            (Engine::Pg, _) => &["psql", "pg_restore"],
            (Engine::Maria, Cmd::Backup) => &["mariadb-dump", "mysqldump"],
            (Engine::Maria, _) => &["mariadb", "mysql"],
        }
    }
}

/// Where the backups are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Storage {
    /// A local directory.
    Local,
    /// The S3 server with conditional writes, behind the fault proxy.
    S3,
}

impl Storage {
    pub fn name(self) -> &'static str {
        match self {
            Storage::Local => "local",
            Storage::S3 => "s3",
        }
    }
}

/// What the proxy does to the requests of the chosen kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Accept and never answer; SIGTERM follows a second after the first
    /// frozen request.
    Freeze,
    /// Answer 500 without forwarding.
    Status500,
    /// Forward, then cut the connection in the middle of the body (the
    /// request's for a PUT or POST, the answer's otherwise).
    Cut,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Freeze => "freeze",
            Action::Status500 => "500",
            Action::Cut => "cut",
        }
    }
}

/// How a manifest of a stored backup is made unreadable before the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ManifestDamage {
    /// Not JSON.
    BadJson,
    /// Its first half.
    Truncated,
    /// Valid JSON, larger than the 64 MiB a manifest can be.
    Oversize,
    /// `stored_bytes` of -1.
    SizeNegative,
    /// `stored_bytes` of 1e30.
    SizeHuge,
}

impl ManifestDamage {
    pub const ALL: [ManifestDamage; 5] = [
        ManifestDamage::BadJson,
        ManifestDamage::Truncated,
        ManifestDamage::Oversize,
        ManifestDamage::SizeNegative,
        ManifestDamage::SizeHuge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ManifestDamage::BadJson => "bad-json",
            ManifestDamage::Truncated => "truncated",
            ManifestDamage::Oversize => "oversize",
            ManifestDamage::SizeNegative => "size-negative",
            ManifestDamage::SizeHuge => "size-huge",
        }
    }
}

/// How a stored backup's data object is damaged before the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectDamage {
    /// Deleted: the manifest names a missing object.
    Missing,
    /// Cut to half its size.
    Truncated,
    /// One byte flipped near the end (same size: only reading it tells).
    Flipped,
}

impl ObjectDamage {
    pub const ALL: [ObjectDamage; 3] = [
        ObjectDamage::Missing,
        ObjectDamage::Truncated,
        ObjectDamage::Flipped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObjectDamage::Missing => "missing",
            ObjectDamage::Truncated => "truncated",
            ObjectDamage::Flipped => "flipped",
        }
    }
}

/// One fault per case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Nothing goes wrong.
    None,
    /// SIGTERM to dbbr at this fraction of the command's expected duration.
    Term(f64),
    /// SIGKILL to dbbr at this fraction of the command's expected duration.
    Kill(f64),
    /// SIGKILL to dbbr's dump tool or restore client at this fraction of
    /// the command's expected duration (or as soon as it runs after that).
    KillChild(f64),
    /// The proxy's `action` on requests of `kind`: the first one only
    /// (`once`) or every one. `cut_at` is where a cut falls, in bytes.
    /// `newest`: only requests for the newest stored backup of the source
    /// database (its manifest, for GET of a manifest).
    Proxy {
        kind: RequestKind,
        action: Action,
        once: bool,
        cut_at: u64,
        newest: bool,
    },
    /// The manifest of stored backup number `which` (of the source
    /// database, oldest first) is unreadable.
    Manifest(ManifestDamage, usize),
    /// The data object of stored backup `which` is damaged.
    Object(ObjectDamage, usize),
    /// Foreign and look-alike files are in the prefix (and one outside).
    Foreign,
    /// The other engine's backups of databases with the same names are in
    /// the prefix too.
    BothEngines,
    /// The source database is named `all`; the prefix holds backups of it
    /// and of a database named `globals`, a globals backup and a
    /// whole-server backup.
    SpecialNames,
}

impl Fault {
    /// The kind, for the counts: `sigterm`, `s3 500 get-manifest`, ...
    pub fn kind(&self) -> String {
        match self {
            Fault::None => "none".into(),
            Fault::Term(_) => "sigterm".into(),
            Fault::Kill(_) => "sigkill".into(),
            Fault::KillChild(_) => "sigkill child".into(),
            Fault::Proxy {
                kind,
                action,
                newest,
                ..
            } => format!(
                "s3 {} {}{}",
                action.name(),
                kind.name(),
                if *newest { " (newest)" } else { "" }
            ),
            Fault::Manifest(d, _) => format!("manifest {}", d.name()),
            Fault::Object(d, _) => format!("object {}", d.name()),
            Fault::Foreign => "foreign files".into(),
            Fault::BothEngines => "both engines".into(),
            Fault::SpecialNames => "special names".into(),
        }
    }

    /// Whether the fault needs the proxy (S3 storage).
    pub fn needs_s3(&self) -> bool {
        matches!(self, Fault::Proxy { .. })
    }

    /// Whether the fault signals at a moment of the command's run.
    pub fn timed(&self) -> Option<f64> {
        match self {
            Fault::Term(at) | Fault::Kill(at) | Fault::KillChild(at) => Some(*at),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => write!(f, "none"),
            Fault::Term(at) => write!(f, "SIGTERM to dbbr at {:.0}% of its run", at * 100.0),
            Fault::Kill(at) => write!(f, "SIGKILL to dbbr at {:.0}% of its run", at * 100.0),
            Fault::KillChild(at) => write!(
                f,
                "SIGKILL to dbbr's client or dump tool at {:.0}% of its run",
                at * 100.0
            ),
            Fault::Proxy {
                kind,
                action,
                once,
                cut_at,
                newest,
            } => {
                let times = if *once { "the first" } else { "every" };
                let of = if *newest { " of the newest backup" } else { "" };
                let kind = kind.name();
                match action {
                    Action::Freeze => {
                        write!(f, "{times} {kind} request{of} frozen, SIGTERM 1 s after")
                    }
                    Action::Status500 => write!(f, "{times} {kind} request{of} answered 500"),
                    Action::Cut => write!(f, "{times} {kind} request{of} cut after {cut_at} bytes"),
                }
            }
            Fault::Manifest(d, which) => {
                write!(
                    f,
                    "manifest of stored backup #{which} unreadable: {}",
                    d.name()
                )
            }
            Fault::Object(d, which) => {
                write!(f, "data of stored backup #{which} damaged: {}", d.name())
            }
            Fault::Foreign => write!(f, "foreign and look-alike files in the prefix"),
            Fault::BothEngines => write!(f, "both engines' backups of the same database names"),
            Fault::SpecialNames => write!(
                f,
                "databases named `all` and `globals` next to whole-server and globals backups"
            ),
        }
    }
}

/// Where a restore goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A database that does not exist, with `--create`.
    New,
    /// An existing database without tables.
    Empty,
    /// An existing database with a table of its own, with `--force`.
    Occupied,
}

/// Which backups a verify covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyWhich {
    /// `--latest SRC` (full).
    Latest,
    /// One stored backup of the source database, by object name (full).
    Object(usize),
    /// `--all` (full).
    All,
    /// `--all --quick`.
    AllQuick,
}

/// The command's own choices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variant {
    Plain,
    /// `restore --latest SRC` (`None`) or `restore OBJECT` (stored backup
    /// number), into `target`.
    Restore(Option<usize>, Target),
    Verify(VerifyWhich),
    /// `prune --keep-last N`.
    Prune(u32),
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variant::Plain => Ok(()),
            Variant::Restore(which, target) => {
                match which {
                    None => write!(f, "--latest")?,
                    Some(w) => write!(f, "stored backup #{w}")?,
                }
                match target {
                    Target::New => write!(f, " into a new database"),
                    Target::Empty => write!(f, " into an empty database"),
                    Target::Occupied => write!(f, " into a database with a table (--force)"),
                }
            }
            Variant::Verify(VerifyWhich::Latest) => write!(f, "--latest"),
            Variant::Verify(VerifyWhich::Object(w)) => write!(f, "stored backup #{w}"),
            Variant::Verify(VerifyWhich::All) => write!(f, "--all"),
            Variant::Verify(VerifyWhich::AllQuick) => write!(f, "--all --quick"),
            Variant::Prune(n) => write!(f, "--keep-last {n}"),
        }
    }
}

/// One case of the matrix.
#[derive(Debug, Clone)]
pub struct Case {
    pub seed: u64,
    pub number: u64,
    pub cmd: Cmd,
    pub engine: Engine,
    pub storage: Storage,
    pub variant: Variant,
    pub fault: Fault,
    /// `LOG_LEVEL` of the command.
    pub log_level: &'static str,
}

/// How many backups of the source database the stored template holds
/// (oldest first); the other database has as many.
pub const STORED: usize = 3;

impl Case {
    /// Case `number` of the run with `seed`.
    pub fn draw(seed: u64, number: u64) -> Case {
        let mut rng = Rng::for_case(seed, number);
        // Every command in turn, so that a short run covers them all.
        let cmd = Cmd::ALL[(number % Cmd::ALL.len() as u64) as usize];
        let engine = rng.pick(&[Engine::Pg, Engine::Maria]);
        let fault = draw_fault(&mut rng, cmd);
        let storage = if fault.needs_s3() {
            Storage::S3
        } else {
            rng.pick(&[Storage::Local, Storage::S3])
        };
        let variant = match cmd {
            Cmd::Restore => {
                let which = rng.chance(0.3).then(|| rng.below(STORED as u64) as usize);
                let target = rng.pick(&[Target::New, Target::Empty, Target::Occupied]);
                Variant::Restore(which, target)
            }
            Cmd::Verify => Variant::Verify(match rng.below(4) {
                0 => VerifyWhich::Latest,
                1 => VerifyWhich::Object(rng.below(STORED as u64) as usize),
                2 => VerifyWhich::All,
                _ => VerifyWhich::AllQuick,
            }),
            Cmd::Prune | Cmd::PruneOrphans => Variant::Prune(1 + rng.below(2) as u32),
            _ => Variant::Plain,
        };
        let log_level = rng.weighted(&[("info", 7), ("debug", 2), ("trace", 1)]);
        Case {
            seed,
            number,
            cmd,
            engine,
            storage,
            variant,
            fault,
            log_level,
        }
    }

    /// The same case without its fault: the run that measures how long
    /// the command takes.
    pub fn calibration(&self) -> Case {
        Case {
            fault: Fault::None,
            log_level: "info",
            ..self.clone()
        }
    }

    /// Whether the case works on the database named `all`.
    pub fn special(&self) -> bool {
        self.fault == Fault::SpecialNames
    }

    /// `case 12: restore --latest into a new database, pg, s3`.
    pub fn title(&self) -> String {
        let variant = self.variant.to_string();
        format!(
            "case {}: {}{}{}, {}, {}, LOG_LEVEL={}",
            self.number,
            self.cmd.name(),
            if variant.is_empty() { "" } else { " " },
            variant,
            self.engine.short(),
            self.storage.name(),
            self.log_level
        )
    }
}

/// A fault for `cmd`, from every family the matrix knows.
fn draw_fault(rng: &mut Rng, cmd: Cmd) -> Fault {
    #[derive(Clone, Copy)]
    enum Family {
        None,
        Term,
        Kill,
        KillChild,
        Proxy,
        Manifest,
        Object,
        Foreign,
        BothEngines,
        SpecialNames,
    }
    let child = if cmd.has_child() { 8 } else { 0 };
    let family = rng.weighted(&[
        (Family::None, 4),
        (Family::Term, 12),
        (Family::Kill, 12),
        (Family::KillChild, child),
        (Family::Proxy, 28),
        (Family::Manifest, 10),
        (Family::Object, 8),
        (Family::Foreign, 8),
        (Family::BothEngines, 4),
        (Family::SpecialNames, 6),
    ]);
    // Mostly the newest stored backup: the one `--latest` and retention
    // care about most.
    let which = |rng: &mut Rng| {
        if rng.chance(0.6) {
            STORED - 1
        } else {
            rng.below(STORED as u64 - 1) as usize
        }
    };
    match family {
        Family::None => Fault::None,
        Family::Term => Fault::Term(rng.fraction()),
        Family::Kill => Fault::Kill(rng.fraction()),
        Family::KillChild => Fault::KillChild(rng.fraction()),
        Family::Proxy => {
            let kind = rng.pick(&RequestKind::ALL);
            let action = rng.pick(&[Action::Freeze, Action::Status500, Action::Cut]);
            let once = rng.chance(0.5);
            let cut_at = match kind {
                RequestKind::GetData | RequestKind::Put => 1 + rng.below(2 << 20),
                _ => 1 + rng.below(400),
            };
            // Drawn last, and only here: the other cases of a seed stay
            // as they were drawn before this choice existed.
            let newest = kind == RequestKind::GetManifest && rng.chance(0.5);
            Fault::Proxy {
                kind,
                action,
                once,
                cut_at,
                newest,
            }
        }
        Family::Manifest => Fault::Manifest(rng.pick(&ManifestDamage::ALL), which(rng)),
        Family::Object => Fault::Object(rng.pick(&ObjectDamage::ALL), which(rng)),
        Family::Foreign => Fault::Foreign,
        Family::BothEngines => Fault::BothEngines,
        Family::SpecialNames => Fault::SpecialNames,
    }
}
