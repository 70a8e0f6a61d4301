//! Object names rendered before a backup starts.

use super::*;
use chrono::TimeZone;

fn plan(databases: &str, pattern: &str) -> Result<Vec<String>> {
    let mut options = Options::new(Engine::Postgres);
    options.remote = ":local:/tmp".into();
    options.selection = Selection::Databases(vec![databases.into()]);
    options.file_name = Some(pattern.into());
    let plan = options.validate()?;
    object_names(&plan, Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
}

#[test]
fn names_are_rendered_up_front() {
    assert_eq!(
        plan("app,billing", "%Y/$DB").unwrap(),
        vec![
            "2026/app.sql.gz".to_string(),
            "2026/billing.sql.gz".to_string()
        ]
    );
}

#[test]
fn two_databases_sharing_a_name_are_rejected() {
    // Both sanitise to `a-b`.
    match plan("a b,a-b", "$DB") {
        Err(Error::Config { message, .. }) => {
            assert!(message.contains("`a b` and `a-b`"), "{message}")
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}
