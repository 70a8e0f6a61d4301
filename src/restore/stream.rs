//! Reading a backup and replaying it: the client for a destination (as a
//! sink that ends only when dbbr says so), the decoder, a whole read that
//! checks without a client, and the stream from one to the other.

use std::io;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::archive::ArchiveScript;
use super::client::{ClientWriter, Finish};
use super::commit_check::CommitCheck;
use super::pg_script::PgTransaction;
use super::pump::{at_stage, failed_at, pump};
use super::retarget::Retarget;
use super::roles::ExistingRoles;
use super::unmovable::Unmovable;
use super::{Context, PROGRESS_EVERY};
use crate::decode::Decoder;
use crate::engine::{Destination, Engine};
use crate::error::{Error, Result, Stage};
use crate::manifest::Kind;
use crate::stored::read_through;

impl Context<'_> {
    /// The client that replays the backup into `to`, as a sink that ends
    /// only when dbbr says so.
    pub(super) fn client(&self, to: Destination<'_>) -> Result<Box<dyn Finish>> {
        let kind = self.kind();
        let manifest = &self.opened.backup.manifest;
        let archive = manifest.is_archive();
        let args = &self.restore.client_args;
        let (mut cmd, program) = kind.restore_command(to, archive, args, &self.connection);
        if manifest.kind() == Kind::Set {
            cmd.env("PGAPPNAME", crate::engine::set_session_name());
        }
        let client = self.start_client(cmd, &program)?;
        let into_database = matches!(to, Destination::Database(_));
        let sink: Box<dyn Finish> = match self.opened.engine {
            // One transaction, whose COMMIT dbbr writes.
            Engine::Postgres if into_database => {
                let conn = self.connection.clone();
                let check =
                    CommitCheck::new(Box::new(move |xid| kind.transaction_committed(xid, &conn)));
                Box::new(
                    PgTransaction::begin_checked(client, check)
                        .map_err(|e| self.failed(Stage::Client, e.to_string()))?,
                )
            }
            Engine::Postgres
                if manifest.kind() == Kind::Globals && kind.globals_recreate_roles() =>
            {
                Box::new(ExistingRoles::new(client))
            }
            _ if kind.dump_names_its_database() && into_database => Box::new(Retarget::new(client)),
            _ => Box::new(client),
        };
        if !archive {
            return Ok(sink);
        }
        match kind.archive_script(to, args) {
            Some((cmd, program)) => ArchiveScript::start(cmd, &program, sink)
                .map(|a| Box::new(a) as Box<dyn Finish>)
                .map_err(|e| self.failed(Stage::Client, not_started(&program, &e))),
            None => Ok(sink),
        }
    }

    pub(super) fn start_client(
        &self,
        cmd: std::process::Command,
        program: &str,
    ) -> Result<ClientWriter> {
        ClientWriter::start(cmd, program)
            .map_err(|e| self.failed(Stage::Client, not_started(program, &e)))
    }

    pub(super) fn decoder(&self) -> Result<Decoder<crate::storage::Download>> {
        self.opened.decoder(self.identities).map_err(|e| match e {
            Error::Interrupted => Error::Interrupted,
            e @ Error::Decode { .. } => self.decode_failed(e),
            e => self.failed(Stage::Download, e.to_string()),
        })
    }

    /// Reads and checks the whole backup without running a client; for a
    /// MariaDB dump, what it holds that cannot move between databases.
    pub(super) fn verify_whole(&self) -> Result<Vec<&'static str>> {
        let decoder = self.decoder()?;
        let mut scan = Unmovable::default();
        let scanning = self.opened.engine == Engine::MariaDb;
        let stop = || self.restore.cancel.load(Ordering::Relaxed);
        read_through(decoder, stop, |piece, _| {
            if scanning {
                scan.update(piece);
            }
        })
        .map_err(|e| match e {
            Error::Interrupted => Error::Interrupted,
            e => self.decode_failed(e),
        })?;
        Ok(scan.found().to_vec())
    }

    /// Streams the decoded backup into `out`; the totals on success. `out`
    /// is completed only when every stage succeeded, and abandoned (its
    /// clients killed before their input ends) otherwise. A watcher kills
    /// the clients when the restore is cancelled, so that a client blocked
    /// on a lock cannot hold it up.
    pub(super) fn stream(&self, out: Box<dyn Finish>) -> Result<(u64, u64)> {
        let decoder = self.decoder()?;
        let label = &self.opened.backup.manifest.database;
        let progress = &self.restore.progress;
        progress.started(label, self.opened.backup.object());
        progress.sized(label, self.opened.backup.manifest.stored_bytes);
        let clock = Instant::now();
        let mut last = Instant::now();
        let cancel = &self.restore.cancel;
        pump(
            decoder,
            out,
            self.opened.backup.object(),
            &|| cancel.load(Ordering::Relaxed),
            |_, decoder| {
                if last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    let (raw, stored) = (decoder.raw_bytes(), decoder.stored_bytes());
                    progress.advanced(label, raw, stored, clock.elapsed());
                }
            },
        )
    }

    pub(super) fn failed(&self, stage: Stage, message: String) -> Error {
        failed_at(self.opened.backup.object(), stage, message)
    }

    pub(super) fn decode_failed(&self, e: Error) -> Error {
        at_stage(self.opened.backup.object(), e)
    }
}

/// Why a program could not start.
fn not_started(program: &str, e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::NotFound {
        format!("{program} not found: install the database client")
    } else {
        format!("cannot start {program}: {e}")
    }
}
