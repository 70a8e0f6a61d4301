//! Lists the backups of a remote and checks the newest one of a database
//! against its manifest, with dbbr linked as a library.
//!
//! ```sh
//! cargo run -- :local:/tmp/backups app
//! ```

use dbbr::{Catalog, Lookup, Remote, Verify, Which};

fn main() -> Result<(), dbbr::Error> {
    let mut args = std::env::args().skip(1);
    let (Some(remote), Some(database)) = (args.next(), args.next()) else {
        eprintln!("usage: dbbr-library-example REMOTE DATABASE");
        std::process::exit(2);
    };
    let remote = Remote::parse(&remote)?;
    let catalog = Catalog::read(&remote)?;
    for backup in &catalog.backups {
        println!("{} {}", backup.manifest.finished_at, backup.object());
    }
    let latest = catalog.latest(&Lookup::database(&database))?;
    let report = Verify::new(Which::Objects(vec![latest.object().into()]))
        .remote(remote.to_string())
        .quick()
        .run()?;
    for verified in &report.backups {
        match &verified.result {
            Ok(detail) => println!("{}: {detail}", verified.object),
            Err(e) => println!("{}: {e}", verified.object),
        }
    }
    Ok(())
}
