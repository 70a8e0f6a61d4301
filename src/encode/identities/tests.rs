//! Tests of the parent module.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

use age::armor::{ArmoredWriter, Format};

use super::*;
use crate::encode::Recipients;

const PASSPHRASE: &str = "correct horse battery staple";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A new OpenSSH key pair of `kind` in `dir`; returns the private key's path.
fn ssh_keygen(dir: &Path, kind: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(format!("id_{kind}_{}", passphrase.len()));
    let mut command = Command::new("ssh-keygen");
    command.args(["-q", "-t", kind, "-N", passphrase, "-C", "dbbr-test", "-f"]);
    command.arg(&path);
    if kind == "rsa" {
        command.args(["-b", "2048"]);
    }
    run(&mut command);
    path
}

fn public_key(path: &Path) -> String {
    std::fs::read_to_string(path.with_extension("pub")).unwrap()
}

/// Whether `identities` decrypt a file encrypted to `recipients`.
fn decrypts(identities: &Identities, recipients: &str) -> bool {
    let to = Recipients::from_config(Some(recipients), None)
        .unwrap()
        .unwrap();
    let encryptor = age::Encryptor::with_recipients(to.iter()).unwrap();
    let mut stored = Vec::new();
    let mut writer = encryptor.wrap_output(&mut stored).unwrap();
    writer.write_all(b"secret dump").unwrap();
    writer.finish().unwrap();
    let Ok(mut reader) = Decryptor::new(&stored[..])
        .unwrap()
        .decrypt(identities.iter())
    else {
        return false;
    };
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain).unwrap();
    assert_eq!(plain, b"secret dump");
    true
}

fn config_error(result: Result<Identities>) -> String {
    match result {
        Err(Error::Config { message, .. }) => message,
        other => panic!("expected a config error, got {other:?}"),
    }
}

fn secret_text(identity: &x25519::Identity) -> String {
    identity.to_string().expose_secret().to_owned()
}

/// `text` encrypted to PASSPHRASE with age's scrypt recipient, as `age -p` does.
fn passphrase_file(text: &str, format: Format) -> Vec<u8> {
    let mut recipient = scrypt::Recipient::new(SecretString::from(PASSPHRASE.to_owned()));
    recipient.set_work_factor(10);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
    let mut out = Vec::new();
    let armor = ArmoredWriter::wrap_output(&mut out, format).unwrap();
    let mut writer = encryptor.wrap_output(armor).unwrap();
    writer.write_all(text.as_bytes()).unwrap();
    writer.finish().unwrap().finish().unwrap();
    out
}

/// A passphrase source that records its prompts.
fn answer<'a>(
    with: &str,
    prompts: &'a mut Vec<String>,
) -> impl FnMut(&str) -> Option<SecretString> + 'a {
    let with = with.to_owned();
    move |prompt| {
        prompts.push(prompt.to_owned());
        Some(SecretString::from(with.clone()))
    }
}

#[test]
fn age_keygen_file_with_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.txt");
    run(Command::new("age-keygen").arg("-o").arg(&path));
    let public = run(Command::new("age-keygen").arg("-y").arg(&path));
    let identities = Identities::from_file(&path).unwrap();
    assert_eq!((identities.len(), identities.is_empty()), (1, false));
    assert!(decrypts(&identities, public.trim()));
    let other = x25519::Identity::generate().to_public().to_string();
    assert!(!decrypts(&identities, &other));
    let debug = format!("{identities:?}");
    let source = format!("identity file {}", path.display());
    assert_eq!(
        debug,
        format!("Identities {{ source: {source:?}, identities: 1 }}")
    );
    assert_eq!(
        identities.source(),
        format!("identity file {}", path.display())
    );
}

#[test]
fn several_identities_crlf_and_duplicates() {
    let (a, b) = (x25519::Identity::generate(), x25519::Identity::generate());
    let text = format!(
        "# first\r\n{}\r\n\r\n  # second, indented comment\r\n{}\r\n{}\r\n",
        secret_text(&a),
        secret_text(&b),
        secret_text(&a)
    );
    let dir = tempfile::tempdir().unwrap();
    let identities = Identities::from_file(&write(dir.path(), "keys", text.as_bytes())).unwrap();
    let (pa, pb) = (a.to_public().to_string(), b.to_public().to_string());
    assert_eq!(identities.len(), 3);
    assert!(decrypts(&identities, &pa));
    assert!(decrypts(&identities, &pb));
    assert!(!decrypts(
        &identities,
        &x25519::Identity::generate().to_public().to_string()
    ));
}

#[test]
fn ssh_keys_without_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "rsa"] {
        let path = ssh_keygen(dir.path(), kind, "");
        let mut asked = false;
        let identities = Identities::from_file_with_passphrase(&path, |_| {
            asked = true;
            None
        })
        .unwrap();
        assert!(
            !asked,
            "asked for a passphrase of an unprotected {kind} key"
        );
        assert_eq!(identities.len(), 1);
        assert!(decrypts(&identities, &public_key(&path)), "{kind}");
        let other = ssh_keygen(dir.path(), kind, "x");
        assert!(!decrypts(&identities, &public_key(&other)), "{kind}");
    }
}

#[test]
fn ssh_keys_with_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "rsa"] {
        let path = ssh_keygen(dir.path(), kind, PASSPHRASE);
        let name = format!("identity file {}", path.display());

        let message = config_error(Identities::from_file(&path));
        assert_eq!(
            message,
            format!("{name} is protected by a passphrase and none was given: {NO_PASSPHRASE_HINT}")
        );

        let mut prompts = Vec::new();
        let message = config_error(Identities::from_file_with_passphrase(
            &path,
            answer("wrong passphrase!", &mut prompts),
        ));
        assert_eq!(
            message,
            format!("wrong passphrase for {name}: check the passphrase given for it")
        );
        assert!(!message.contains("wrong passphrase!"));

        let mut prompts = Vec::new();
        let identities =
            Identities::from_file_with_passphrase(&path, answer(PASSPHRASE, &mut prompts)).unwrap();
        assert_eq!(prompts, [format!("passphrase for {name}")]);
        assert!(decrypts(&identities, &public_key(&path)), "{kind}");
    }
}

#[test]
fn passphrase_protected_identity_file() {
    let identity = x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = format!("# created by a test\n{}\n", secret_text(&identity));
    let dir = tempfile::tempdir().unwrap();
    for (file, format) in [("key.age", Format::Binary), ("key.asc", Format::AsciiArmor)] {
        let armored = matches!(format, Format::AsciiArmor);
        let bytes = passphrase_file(&text, format);
        assert_eq!(
            bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
            armored
        );
        let path = write(dir.path(), file, &bytes);
        let name = format!("identity file {}", path.display());

        let message = config_error(Identities::from_file(&path));
        assert!(
            message.starts_with(&format!("{name} is protected by a passphrase")),
            "{message}"
        );

        let mut prompts = Vec::new();
        let message = config_error(Identities::from_file_with_passphrase(
            &path,
            answer("not it", &mut prompts),
        ));
        assert!(
            message.starts_with(&format!("wrong passphrase for {name}")),
            "{message}"
        );

        let mut prompts = Vec::new();
        let identities =
            Identities::from_file_with_passphrase(&path, answer(PASSPHRASE, &mut prompts)).unwrap();
        assert_eq!(prompts, [format!("passphrase for {name}")]);
        assert_eq!(identities.len(), 1);
        assert!(decrypts(&identities, &public));
    }
}

#[test]
fn protected_file_with_bad_contents_names_decrypted_line() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = passphrase_file("# comment\nnot a key\n", Format::AsciiArmor);
    let path = write(dir.path(), "key.asc", &bytes);
    let mut prompts = Vec::new();
    let message = config_error(Identities::from_file_with_passphrase(
        &path,
        answer(PASSPHRASE, &mut prompts),
    ));
    assert!(
        message.starts_with(&format!(
            "identity file {} (decrypted) line 2 is not an age identity",
            path.display()
        )),
        "{message}"
    );
    assert!(!message.contains("not a key"), "{message}");
}

#[test]
fn age_file_to_recipients_rejected() {
    let identity = x25519::Identity::generate();
    let recipient = identity.to_public();
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
    let mut bytes = Vec::new();
    let mut writer = encryptor.wrap_output(&mut bytes).unwrap();
    writer.write_all(secret_text(&identity).as_bytes()).unwrap();
    writer.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "key.age", &bytes);
    let message = config_error(Identities::from_file(&path));
    assert!(
        message.contains("is an age file encrypted to recipients"),
        "{message}"
    );

    bytes.truncate(30);
    let path = write(dir.path(), "cut.age", &bytes);
    let message = config_error(Identities::from_file(&path));
    assert!(message.contains("is a damaged age file"), "{message}");
}

#[test]
fn garbage_empty_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let binary: Vec<u8> = (0..=255u8).rev().cycle().take(4096).collect();
    let path = write(dir.path(), "binary", &binary);
    let message = config_error(Identities::from_file(&path));
    assert!(
        message.contains("is neither an age identity file nor an ssh private key"),
        "{message}"
    );

    let path = write(dir.path(), "text", b"# keys\n\nhunter2 is my password\n");
    let message = config_error(Identities::from_file(&path));
    assert_eq!(
        message,
        format!(
            "identity file {} line 3 is not an age identity: {ACCEPTED}",
            path.display()
        )
    );
    assert!(!message.contains("hunter2"));

    for (file, text) in [("empty", ""), ("comments", "# nothing yet\n\n")] {
        let path = write(dir.path(), file, text.as_bytes());
        let message = config_error(Identities::from_file(&path));
        assert_eq!(
            message,
            format!(
                "identity file {} contains no identity: {ACCEPTED}",
                path.display()
            )
        );
    }

    let path = write(
        dir.path(),
        "pem",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    let message = config_error(Identities::from_file(&path));
    assert!(
        message.contains("is not a private key age can read"),
        "{message}"
    );

    let missing = dir.path().join("missing.txt");
    let message = config_error(Identities::from_file(&missing));
    assert!(
        message.starts_with(&format!("cannot read identity file {}", missing.display())),
        "{message}"
    );
}

#[test]
fn public_keys_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let ssh = ssh_keygen(dir.path(), "ed25519", "");
    let age_public = x25519::Identity::generate().to_public().to_string();
    for (file, text) in [("age.pub", age_public), ("ssh.pub", public_key(&ssh))] {
        let path = write(dir.path(), file, format!("# mine\n{text}").as_bytes());
        let message = config_error(Identities::from_file(&path));
        assert!(
            message.starts_with(&format!(
                "identity file {} line 2 is a public key: give the private key",
                path.display()
            )),
            "{message}"
        );
    }
}

#[test]
fn unsupported_ssh_key_type_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = ssh_keygen(dir.path(), "ecdsa", "");
    let message = config_error(Identities::from_file(&path));
    assert!(
        message.contains("is a key of type ecdsa-sha2-nistp256, which age does not support"),
        "{message}"
    );
}
