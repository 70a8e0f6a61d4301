//! How a command ended: the one type every command returns, and the exit
//! code each ending gets (0 done, 1 failed, 2 rejected before any I/O,
//! 128 + N stopped by signal N).

use std::process::ExitCode;

use dbbr::{Error, Result};

/// How a command ended. `main` logs what the command left to it and exits
/// with [`Outcome::exit_code`].
#[derive(Debug)]
#[must_use]
pub enum Outcome {
    /// It did all it was asked: exit 0.
    Success,
    /// Something it was asked failed, and it said what: exit 1.
    Failed,
    /// It refused its settings before any I/O, and said why: exit 2.
    Rejected,
    /// It stopped on this error, which `main` logs: exit 2 for a usage
    /// error (settings rejected before any I/O), 1 otherwise.
    Error(Error),
    /// A signal stopped it, whatever it returned: exit 128 + the signal's
    /// number, the shell's convention (130 for SIGINT, 143 for SIGTERM).
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// The error the command ended with, unless it only reports the
        /// interruption.
        error: Option<Error>,
    },
}

impl Outcome {
    /// What a command that signal number `signal` stopped ended with: it
    /// did not do all it was asked, whatever it returned. An error that
    /// only reports the interruption (a restore's "failed at download:
    /// interrupted by a signal") adds nothing and is left out.
    pub fn interrupted_by(self, signal: i32) -> Outcome {
        let error = match self {
            Outcome::Error(e) | Outcome::Interrupted { error: Some(e), .. } => Some(e),
            _ => None,
        };
        let interruption = Error::Interrupted.to_string();
        Outcome::Interrupted {
            signal,
            error: error.filter(|e| !e.to_string().contains(&interruption)),
        }
    }

    /// The process's exit code for this ending.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
            Outcome::Rejected => ExitCode::from(2),
            Outcome::Error(e) => ExitCode::from(if e.is_usage() { 2 } else { 1 }),
            Outcome::Interrupted { signal, .. } => {
                ExitCode::from(128u8.saturating_add(*signal as u8))
            }
        }
    }
}

/// A command that did all it was asked (`true`), or reported a failure
/// itself (`false`), or stopped on an error.
impl From<Result<bool>> for Outcome {
    fn from(result: Result<bool>) -> Outcome {
        match result {
            Ok(true) => Outcome::Success,
            Ok(false) => Outcome::Failed,
            Err(e) => Outcome::Error(e),
        }
    }
}

/// A command that did all it was asked, or stopped on an error.
impl From<Result<()>> for Outcome {
    fn from(result: Result<()>) -> Outcome {
        result.map(|()| true).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_overrides_whatever_the_command_returned() {
        let config = || Error::config(dbbr::Setting::Selection, "bad");
        for (outcome, kept) in [
            (Outcome::Success, false),
            (Outcome::Failed, false),
            (Outcome::Rejected, false),
            (Outcome::Error(Error::Interrupted), false),
            (Outcome::Error(config()), true),
        ] {
            let Outcome::Interrupted { signal, error } = outcome.interrupted_by(15) else {
                panic!("not interrupted");
            };
            assert_eq!(signal, 15);
            assert_eq!(error.is_some(), kept);
        }
        assert_eq!(
            Outcome::Error(config()).interrupted_by(2).exit_code(),
            ExitCode::from(130)
        );
    }

    #[test]
    fn exit_codes() {
        let done: [Result<bool>; 2] = [Ok(true), Ok(false)];
        let [all, some] = done.map(|r| Outcome::from(r).exit_code());
        assert_eq!((all, some), (ExitCode::SUCCESS, ExitCode::from(1)));
        let unit: Result<()> = Ok(());
        assert_eq!(Outcome::from(unit).exit_code(), ExitCode::SUCCESS);
        assert_eq!(Outcome::Rejected.exit_code(), ExitCode::from(2));
        let config = Error::config(dbbr::Setting::Selection, "bad");
        assert!(config.is_usage());
        assert_eq!(Outcome::Error(config).exit_code(), ExitCode::from(2));
        assert_eq!(
            Outcome::Error(Error::Interrupted).exit_code(),
            ExitCode::from(1)
        );
    }
}
