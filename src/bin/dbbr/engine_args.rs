//! The database engine as the commands name it.

use clap::ValueEnum;
use dbbr::Engine;

/// Database engine on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// PostgreSQL: pg_dump, or pg_dumpall with BACKUP_ALL.
    #[value(alias = "postgres", alias = "pg")]
    Postgresql,
    /// MariaDB or MySQL: mariadb-dump (or mysqldump).
    #[value(alias = "mysql")]
    Mariadb,
}

impl EngineArg {
    /// The library's engine.
    pub fn engine(self) -> Engine {
        match self {
            EngineArg::Postgresql => Engine::Postgres,
            EngineArg::Mariadb => Engine::MariaDb,
        }
    }
}
