//! Runs a database dump tool as a child process and exposes its output as a
//! stream. Which tool and which arguments is the engine's business
//! ([`crate::engine`]); this module only runs the command it is given.

mod child;
mod command;
pub(crate) mod environment;
pub(crate) mod stderr;

pub(crate) use child::DumpReader;
pub(crate) use command::DumpCommand;

/// Helpers for the engines' tests.
#[cfg(test)]
pub(crate) mod tests {
    use std::process::Command;

    /// `["a", "b"]` as owned strings.
    pub(crate) fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// A command's arguments as strings.
    pub(crate) fn args_of(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_str().unwrap().to_string())
            .collect()
    }

    /// The value a command sets for `var`, if it sets one.
    pub(crate) fn env_of(cmd: &Command, var: &str) -> Option<String> {
        cmd.get_envs()
            .find(|(k, _)| *k == var)
            .and_then(|(_, v)| v.map(|v| v.to_str().unwrap().to_string()))
    }
}
