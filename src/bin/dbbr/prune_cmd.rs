//! `dbbr prune [--keep-...] [--database DB] [--dry-run]
//! [--orphans-older-than DURATION]`.

use clap::Args;
use dbbr::cli::parse_duration;
use dbbr::{Error, KeepPolicy, Prune, Result, Setting};

use crate::engine_args::EngineArg;
use crate::keep_args::KeepArgs;
use crate::outcome::Outcome;
use crate::storage_args::StorageArgs;

/// What to prune.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(flatten)]
    keep: KeepArgs,
    /// Only this database's backups (repeatable; `all` and `globals` name
    /// the server-wide backups).
    #[arg(long = "database", value_name = "DB", value_parser = crate::settings::text())]
    databases: Vec<String>,
    /// Only backups of this engine.
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// Print each backup with the reason it is kept or removed; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also remove dbbr's leftovers (staging objects and claims, objects
    /// named as backups are named without a manifest, verification records
    /// of backups that are gone) older than this (at least 3m, e.g. 2d).
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::text())]
    orphans_older_than: Option<String>,
    /// How backups are named (as the backups' BACKUP_FILE_NAME), so that
    /// leftovers are told from other files (default: dbbr's default names).
    #[arg(long, env = "BACKUP_FILE_NAME", value_name = "PATTERN", value_parser = crate::settings::text())]
    file_name: Option<String>,
}

/// Runs the prune; [`Outcome::Failed`] when a broken backup was found: it
/// was neither counted nor removed.
pub fn run(args: PruneArgs) -> Outcome {
    pruned(args).into()
}

/// Runs the prune; `Ok(false)` when a broken backup was found.
fn pruned(args: PruneArgs) -> Result<bool> {
    args.storage.remote()?;
    for database in &args.databases {
        crate::settings::name_given("--database", database)?;
    }
    let policy = args.keep.policy()?.ok_or_else(|| {
        Error::config(
            Setting::Retention,
            "no keep policy given: refusing to delete every backup",
        )
    })?;
    let report = prune(policy, &args)?.run()?;
    for d in &report.decisions {
        let verb = match (d.keep, args.dry_run) {
            (true, _) => "keep",
            (false, true) => "would remove",
            (false, false) => "removed",
        };
        let line = format!(
            "{verb:<12} {} {} {} {} ({})",
            d.engine,
            crate::show::one_line(&d.database),
            d.time.format("%Y-%m-%d %H:%M:%S"),
            crate::show::one_line(&d.object),
            d.reasons.join(", ")
        );
        println!("{}", crate::settings::masked(&line));
    }
    for orphan in &report.orphans {
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        let line = format!("{verb:<12} leftover {}", crate::show::one_line(orphan));
        println!("{}", crate::settings::masked(&line));
    }
    for (object, why) in &report.broken {
        let line = format!("broken       {object} ({why}: not counted by any rule, left in place)");
        println!("{}", crate::settings::masked(&crate::show::one_line(&line)));
        tracing::error!("{object} is broken: {why}");
    }
    Ok(report.broken.is_empty())
}

fn prune(policy: KeepPolicy, args: &PruneArgs) -> Result<Prune> {
    let mut prune = Prune::new(policy)
        .remote(&args.storage.remote_name)
        .prefix(&args.storage.upload_prefix)
        .dry_run(args.dry_run);
    if !args.databases.is_empty() {
        prune = prune.databases(args.databases.clone());
    }
    if let Some(engine) = args.engine {
        prune = prune.engine(engine.engine());
    }
    if let Some(pattern) = args.file_name.as_deref().filter(|p| !p.trim().is_empty()) {
        prune = prune.file_names([pattern]);
    }
    if let Some(age) = &args.orphans_older_than {
        let age = parse_duration(age)
            .map_err(|e| Error::config(Setting::Selection, format!("--orphans-older-than: {e}")))?;
        prune = prune.orphans_older_than(age);
    }
    Ok(prune)
}
