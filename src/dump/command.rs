//! A dump command ready to spawn: program, arguments, and the password for
//! its environment.

use std::fmt;
use std::io;
use std::process::Command;

use super::child::DumpReader;
use super::environment::{self, ClientEnv};
use crate::error::{Error, Result, Setting};
use crate::redact::{redact, MASK};

/// A dump command ready to spawn, as an engine built it.
pub(crate) struct DumpCommand {
    env: ClientEnv,
    program: String,
    args: Vec<String>,
    database: String,
    install_hint: &'static str,
    /// Why the command must not run (checked by [`DumpCommand::spawn`]).
    problem: Option<String>,
}

impl fmt::Debug for DumpCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .password
            .iter()
            .map(|(k, _)| format!("{k}={MASK}"))
            .collect();
        f.debug_struct("DumpCommand")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env)
            .finish()
    }
}

impl DumpCommand {
    /// `program` with `args` dumping `database` (a name, `all` or
    /// `globals`), in environment `env`: the password, if any, goes there,
    /// never to the arguments. `install_hint` says how to get the program
    /// when it is missing.
    pub(crate) fn new(
        env: ClientEnv,
        program: &str,
        args: Vec<String>,
        database: &str,
        install_hint: &'static str,
    ) -> DumpCommand {
        let problem = if database.is_empty() {
            Some("empty database name".to_string())
        } else if database.contains('\0') {
            Some(format!("database name {database:?} contains a NUL byte"))
        } else {
            None
        };
        DumpCommand {
            env,
            program: program.to_string(),
            args,
            database: database.to_string(),
            install_hint,
            problem,
        }
    }

    /// The program that will run (`pg_dump`, `pg_dumpall`, `mariadb-dump`
    /// or fallback `mysqldump`).
    #[cfg(test)]
    pub(crate) fn program(&self) -> &str {
        &self.program
    }

    /// The argv after the program (never contains a password).
    #[cfg(test)]
    pub(crate) fn args(&self) -> &[String] {
        &self.args
    }

    /// Checks that the program can be found, so that a missing client is
    /// reported before any database or storage I/O.
    pub(crate) fn check_installed(&self) -> Result<()> {
        let found = if self.program.contains('/') {
            std::path::Path::new(&self.program).is_file()
        } else {
            environment::on_path(&self.program)
        };
        if found {
            Ok(())
        } else {
            Err(Error::config(
                Setting::DumpTool,
                format!("{} not found: {}", self.program, self.install_hint),
            ))
        }
    }

    /// Starts the dump: stdout piped for reading, stderr drained on a thread
    /// that keeps its last lines for the error message. The child's
    /// environment has the password and no storage settings.
    ///
    /// A missing program is an [`Error::Dump`] saying which client to install.
    pub(crate) fn spawn(&self) -> Result<DumpReader> {
        if let Some(problem) = &self.problem {
            return Err(Error::config(Setting::Databases, problem.clone()));
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        environment::apply(&mut cmd, &self.env);
        tracing::debug!(
            target: "dbbr::dump",
            program = %self.program,
            args = %redact(&self.args.join(" ")),
            password_env = self.env.password.as_ref().map(|(var, _)| *var).unwrap_or("none"),
            "starting dump"
        );
        DumpReader::start(cmd, &self.program, &self.database).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::Dump {
                    database: self.database.clone(),
                    message: format!("{} not found: {}", self.program, self.install_hint),
                }
            } else {
                Error::io(format!("cannot start {}", self.program), e)
            }
        })
    }

    /// The password variable and value for the child, if any.
    #[cfg(test)]
    pub(crate) fn password_env(&self) -> Option<&(&'static str, String)> {
        self.env.password.as_ref()
    }

    /// Replaces the program and arguments (tests run stand-ins).
    #[cfg(test)]
    pub(crate) fn set_program(&mut self, program: &str, args: &[&str]) {
        self.program = program.to_string();
        self.args = args.iter().map(|a| a.to_string()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_rejected_before_running() {
        for name in ["", "a\0b"] {
            let env = ClientEnv {
                prefixes: &["PG"],
                password: None,
            };
            let cmd = DumpCommand::new(env, "pg_dump", vec![], name, "");
            let err = cmd.spawn().unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{err:?}");
        }
    }
}
