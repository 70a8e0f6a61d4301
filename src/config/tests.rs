//! Unit tests of `config`.

use super::*;

fn options() -> Options {
    let mut o = Options::new(Engine::Postgres);
    o.remote = ":local:/tmp".into();
    o
}

#[test]
fn debug_output_masks_the_remote() {
    let mut o = options();
    o.remote = ":webdav,url='https://me:dbg-Url-Pw-41@h/',pass=dbg-Pass-42,bearer_token=\
                dbg-Tok-43:x"
        .into();
    o.dump_args = vec!["--no-owner".into()];
    let shown = format!("{o:?}");
    for secret in ["dbg-Url-Pw-41", "dbg-Pass-42", "dbg-Tok-43"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains(":webdav") && shown.contains("--no-owner"),
        "{shown}"
    );
    o.remote = ":s3,secret_access_key=dbg-Unclosed-44".into();
    assert!(!format!("{o:?}").contains("dbg-Unclosed-44"));
    let plan = options_with(":s3,secret_access_key=dbg-Unclosed-44:b").validate();
    assert!(!format!("{plan:?}").contains("dbg-Unclosed-44"));
}

#[test]
fn exclusions_hold_in_any_order_and_only_for_every_database() {
    let mut o = options_with(":local:/tmp");
    o.exclude = vec!["test_*".into()];
    let err = o.validate().unwrap_err();
    assert_eq!(err.setting(), Some(Setting::Exclude), "{err}");
    o.selection = Selection::Every {
        exclude: vec!["a".into()],
    };
    let plan = o.validate().unwrap();
    let exclude = plan.discover.expect("every database");
    assert!(exclude.excludes("test_1") && exclude.excludes("a") && !exclude.excludes("b"));
    let mut o = options_with(":local:/tmp");
    o.exclude = vec![" , ".into()];
    assert!(o.validate().is_ok());
}

fn options_with(remote: &str) -> Options {
    let mut o = options();
    o.remote = remote.into();
    o.selection = Selection::Databases(vec!["app".into()]);
    o
}

fn config_error(mut o: Options) -> (Setting, String) {
    match o.validate() {
        Err(Error::Config { setting, message }) => (setting, message),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

fn databases(o: &mut Options, names: &str) {
    o.selection = Selection::Databases(vec![names.into()]);
}

#[test]
fn databases_are_split_on_commas_and_trimmed() {
    let mut o = options();
    databases(&mut o, " app , billing,,");
    o.file_name = Some("$DB".into());
    let plan = o.validate().unwrap();
    assert_eq!(
        plan.targets,
        vec![
            Target::Database("app".into()),
            Target::Database("billing".into())
        ]
    );
}

#[test]
fn nothing_to_back_up_is_rejected() {
    let (setting, msg) = config_error(options());
    assert_eq!(setting, Setting::Databases);
    assert!(msg.starts_with("nothing to back up"), "{msg}");
}

#[test]
fn duplicate_database_is_rejected() {
    let mut o = options();
    databases(&mut o, "a,a");
    assert!(config_error(o).1.contains("twice"));
}

#[test]
fn several_databases_need_db_in_the_name() {
    let mut o = options();
    databases(&mut o, "a,b");
    o.file_name = Some("backup-%Y".into());
    let (setting, msg) = config_error(o);
    assert_eq!(setting, Setting::FileName);
    assert!(msg.contains("$DB"), "{msg}");
}

#[test]
fn all_mode_gets_its_default_pattern() {
    let mut o = options();
    o.selection = Selection::All;
    let plan = o.validate().unwrap();
    assert_eq!(plan.targets, vec![Target::All]);
    assert!(plan.pattern.as_str().starts_with("all_"));
}

#[test]
fn empty_recipients_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.txt");
    std::fs::write(&file, "# nothing here\n").unwrap();
    let mut o = options();
    databases(&mut o, "app");
    o.recipients_file = Some(file);
    let (setting, msg) = config_error(o);
    assert_eq!(setting, Setting::RecipientsFile);
    assert!(msg.contains("no recipient"), "{msg}");
}

#[test]
fn blank_recipients_are_rejected_not_plaintext() {
    for blank in ["", "  ", "\n"] {
        let mut o = options();
        databases(&mut o, "app");
        o.recipients_text = Some(blank.into());
        let (setting, msg) = config_error(o);
        assert_eq!(setting, Setting::Recipients, "{blank:?}");
        assert!(msg.contains("no recipient"), "{msg}");
    }
}

#[test]
fn parsed_recipients_merge_with_text() {
    let key = age::x25519::Identity::generate().to_public();
    let other = age::x25519::Identity::generate().to_public();
    let mut o = options();
    databases(&mut o, "app");
    o.recipients = Some(Recipients::from_x25519([key.clone()]).unwrap());
    o.recipients_text = Some(format!("{key},{other}"));
    let plan = o.validate().unwrap();
    assert_eq!(
        plan.recipients.unwrap().fingerprints(),
        [key.to_string(), other.to_string()]
    );
}

#[test]
fn missing_password_file_is_rejected() {
    let mut o = options();
    databases(&mut o, "app");
    o.password_file = Some("/nonexistent/pw".into());
    let (setting, msg) = config_error(o);
    assert_eq!(setting, Setting::PasswordFile);
    assert!(msg.contains("/nonexistent/pw"), "{msg}");
}

#[test]
fn bad_remote_is_rejected() {
    let mut o = options();
    databases(&mut o, "app");
    o.remote = ":s3,no-colon-end".into();
    let (setting, msg) = config_error(o);
    assert_eq!(setting, Setting::Remote);
    assert!(msg.contains("connection string"), "{msg}");
}

#[test]
fn exclude_globs() {
    let e = Exclude::parse(&["tmp_*, test?".into(), "[ab]x".into()]).unwrap();
    assert!(e.excludes("tmp_1") && e.excludes("test1") && e.excludes("ax"));
    assert!(!e.excludes("app") && !e.excludes("test12"));
    let err = Exclude::parse(&["[unclosed\nx".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a name or glob") && !err.contains('\n'),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any globs and names: refused on one line, or matching never panics
    /// and a plain name always excludes itself.
    #[test]
    fn any_exclude_parses_or_is_refused(
        items in proptest::collection::vec("([*?!\\[\\]{}^,-]|\\PC){0,12}", 0..4),
        name in "\\PC{0,12}",
    ) {
        match Exclude::parse(&items) {
            Ok(e) => {
                let _ = e.excludes(&name);
            }
            Err(err) => {
                proptest::prop_assert_eq!(err.setting(), Some(Setting::Exclude));
                proptest::prop_assert!(!err.to_string().contains('\n'), "{}", err);
            }
        }
        let plain: String = name
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !plain.is_empty() {
            let e = Exclude::parse(std::slice::from_ref(&plain)).unwrap();
            proptest::prop_assert!(e.excludes(&plain));
        }
    }
}
