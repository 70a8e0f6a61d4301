//! The lifecycle against real servers, one module per engine: backup,
//! list, restore, verify and prune, from storage alone, and what a damaged
//! backup does. A case both engines have has the same name in both modules.

mod mariadb;
mod postgres;
