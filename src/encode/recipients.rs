//! The age recipients a backup is encrypted to: parsed keys, inline text,
//! or an age recipients file.

use std::fmt;
use std::io::Read;
use std::path::Path;

use age::ssh::ParseRecipientKeyError;
use age::{ssh, tag, tagpq, x25519};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, Setting};

/// The recipient forms accepted, for error messages.
const ACCEPTED: &str = "use an age1... public key or an ssh-ed25519/ssh-rsa public key line";

/// Recipients files larger than this are refused (age's own limit).
const FILE_LIMIT: u64 = 16 << 20;

/// One parsed recipient, shareable across threads.
type Key = Box<dyn age::Recipient + Send + Sync>;

/// Parsed age recipients (public keys) a backup is encrypted to; never empty.
///
/// Accepts what rage accepts without plugins: native `age1...` recipients
/// (X25519, `age1tag1...`, `age1tagpq1...`), `ssh-ed25519` and `ssh-rsa`.
/// Debug output shows the fingerprints only.
pub struct Recipients {
    keys: Vec<Key>,
    fingerprints: Vec<String>,
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipients")
            .field("fingerprints", &self.fingerprints)
            .finish()
    }
}

impl Recipients {
    /// Parses recipients separated by newlines or commas (`#` comments
    /// ignored), e.g. `age1...,ssh-ed25519 AAAA... user@host`.
    pub fn parse(text: &str) -> Result<Recipients> {
        Self::from_config(Some(text), None).map(|r| r.expect("inline text was given"))
    }

    /// Reads an age recipients file: one recipient per line, blank lines and
    /// `#` comments ignored (e.g. an `id_ed25519.pub`).
    pub fn from_file(path: &Path) -> Result<Recipients> {
        Self::from_config(None, Some(path)).map(|r| r.expect("a file was given"))
    }

    /// Native age X25519 recipients (`age1...`), already parsed.
    pub fn from_x25519(keys: impl IntoIterator<Item = x25519::Recipient>) -> Result<Recipients> {
        let mut all = Recipients::empty();
        for key in keys {
            let fingerprint = key.to_string();
            all.push(Box::new(key), fingerprint);
        }
        all.check_not_empty()?;
        Ok(all)
    }

    /// SSH public keys (`ssh-ed25519`, `ssh-rsa`), already parsed.
    pub fn from_ssh(keys: impl IntoIterator<Item = ssh::Recipient>) -> Result<Recipients> {
        let mut all = Recipients::empty();
        for key in keys {
            let fingerprint = ssh_fingerprint(&key);
            all.push(Box::new(key), fingerprint);
        }
        all.check_not_empty()?;
        Ok(all)
    }

    /// Both sets of recipients, duplicates dropped.
    pub fn merge(mut self, other: Recipients) -> Result<Recipients> {
        for (key, fingerprint) in other.keys.into_iter().zip(other.fingerprints) {
            self.push(key, fingerprint);
        }
        self.check_compatible()?;
        Ok(self)
    }

    /// From `inline` text (recipients separated by newlines or commas) and/or
    /// a recipients `file` (one recipient per line, blank lines and `#`
    /// comments ignored). Both given: their union, with duplicates dropped.
    /// Returns `Ok(None)` if both are `None`.
    ///
    /// Every failure is an [`Error::Config`] naming the item or line: an
    /// invalid or unsupported recipient, an unreadable file, a source holding
    /// no recipient at all, or recipients age cannot combine in one file.
    pub(crate) fn from_config(
        inline: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Option<Recipients>> {
        if inline.is_none() && file.is_none() {
            return Ok(None);
        }
        let mut all = Recipients::empty();
        if let Some(text) = inline {
            let items = text
                .split([',', '\n'])
                .map(str::trim)
                .filter(|item| !item.is_empty() && !item.starts_with('#'));
            let mut found = 0;
            for (index, item) in items.enumerate() {
                all.add(Setting::Recipients, item, || {
                    format!("recipient {}", index + 1)
                })?;
                found += 1;
            }
            if found == 0 {
                return Err(Error::config(
                    Setting::Recipients,
                    "the recipients contain no recipient: refusing to upload unencrypted \
                     (give age or ssh public keys, or no recipients at all)",
                ));
            }
        }
        if let Some(path) = file {
            let name = format!("recipients file {}", path.display());
            let bad = |message: String| Error::config(Setting::RecipientsFile, message);
            let text = read_limited(path).map_err(|e| {
                bad(format!(
                    "cannot read {name}: {e}: check the path and its permissions"
                ))
            })?;
            if text.len() as u64 > FILE_LIMIT {
                return Err(bad(format!(
                    "{name} is larger than 16 MiB: point it at an age recipients file"
                )));
            }
            let mut found = 0;
            for (index, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                all.add(Setting::RecipientsFile, line, || {
                    format!("{name} line {}", index + 1)
                })?;
                found += 1;
            }
            if found == 0 {
                return Err(bad(format!(
                    "{name} contains no recipient: refusing to upload unencrypted \
                     (add age or ssh public keys, one per line)"
                )));
            }
        }
        all.check_compatible()?;
        Ok(Some(all))
    }

    /// Fingerprints for the manifest, one per recipient, in input order:
    /// for `age1...` recipients the recipient string itself; for ssh keys the
    /// OpenSSH fingerprint `SHA256:<unpadded base64>` that `ssh-keygen -lf`
    /// shows.
    pub fn fingerprints(&self) -> &[String] {
        &self.fingerprints
    }

    /// Number of recipients.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no recipient (never true for parsed recipients).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The recipients in the form [`age::Encryptor::with_recipients`] takes.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Recipient> {
        self.keys
            .iter()
            .map(|key| key.as_ref() as &dyn age::Recipient)
    }

    fn empty() -> Recipients {
        Recipients {
            keys: Vec::new(),
            fingerprints: Vec::new(),
        }
    }

    /// Parses one recipient and appends it unless it is already present.
    fn add(&mut self, setting: Setting, item: &str, place: impl FnOnce() -> String) -> Result<()> {
        let (key, fingerprint) =
            parse(item).map_err(|why| Error::config(setting, format!("{} {why}", place())))?;
        self.push(key, fingerprint);
        Ok(())
    }

    /// Appends a key unless one with the same fingerprint is present.
    fn push(&mut self, key: Key, fingerprint: String) {
        if !self.fingerprints.contains(&fingerprint) {
            self.keys.push(key);
            self.fingerprints.push(fingerprint);
        }
    }

    fn check_not_empty(&self) -> Result<()> {
        if self.keys.is_empty() {
            return Err(Error::config(
                Setting::Recipients,
                "no recipient given: refusing to upload unencrypted",
            ));
        }
        self.check_compatible()
    }

    /// Rejects sets age refuses to encrypt to (post-quantum mixed with
    /// classic recipients) now, rather than when the upload starts.
    fn check_compatible(&self) -> Result<()> {
        match age::Encryptor::with_recipients(self.iter()) {
            Ok(_) => Ok(()),
            Err(age::EncryptError::IncompatibleRecipients { .. }) => Err(Error::config(
                Setting::Recipients,
                "the encryption recipients mix post-quantum (age1tagpq1...) and classic keys, \
                 which age cannot combine: use only one kind",
            )),
            Err(e) => Err(Error::config(
                Setting::Recipients,
                format!("age rejected the encryption recipients: {e}"),
            )),
        }
    }
}

/// Reads at most [`FILE_LIMIT`] + 1 bytes of UTF-8 text.
fn read_limited(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(FILE_LIMIT + 1)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// Parses one trimmed recipient into the key and its fingerprint, or says
/// what is wrong with it (never echoing it: it may be a pasted secret).
fn parse(item: &str) -> std::result::Result<(Key, String), String> {
    if let Ok(key) = item.parse::<x25519::Recipient>() {
        let fingerprint = key.to_string();
        return Ok((Box::new(key), fingerprint));
    }
    if let Ok(key) = item.parse::<tag::Recipient>() {
        let fingerprint = key.to_string();
        return Ok((Box::new(key), fingerprint));
    }
    if let Ok(key) = item.parse::<tagpq::Recipient>() {
        let fingerprint = key.to_string();
        return Ok((Box::new(key), fingerprint));
    }
    if item.starts_with("AGE-SECRET-KEY-") || item.starts_with("-----BEGIN") {
        return Err("is a private key: give its public key instead \
                    (`age-keygen -y`, or the .pub file of an ssh key)"
            .to_owned());
    }
    match item.parse::<ssh::Recipient>() {
        Ok(key) => {
            let fingerprint = ssh_fingerprint(&key);
            Ok((Box::new(key), fingerprint))
        }
        Err(ParseRecipientKeyError::Unsupported(kind)) => Err(format!(
            "is a key of type {kind}, which age does not support: {ACCEPTED}"
        )),
        Err(ParseRecipientKeyError::RsaModulusTooSmall) => Err(format!(
            "is an ssh-rsa key shorter than 2048 bits, which age refuses: {ACCEPTED}"
        )),
        Err(ParseRecipientKeyError::RsaModulusTooLarge) => Err(format!(
            "is an ssh-rsa key longer than 4096 bits, which age does not support: {ACCEPTED}"
        )),
        Err(_) => Err(format!(
            "is not an age or ssh-ed25519/ssh-rsa recipient: {ACCEPTED}"
        )),
    }
}

/// `SHA256:<unpadded base64 of sha256(key blob)>`, as `ssh-keygen -lf` prints.
fn ssh_fingerprint(key: &ssh::Recipient) -> String {
    let blob = match key {
        ssh::Recipient::SshRsa(blob, _) | ssh::Recipient::SshEd25519(blob, _) => blob,
    };
    use base64::Engine as _;
    let digest = Sha256::digest(blob);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::super::tests::{ED25519_PUBLIC, RSA_PUBLIC};
    use super::*;

    /// What `ssh-keygen -lf` printed for the test keys.
    const ED25519_FINGERPRINT: &str = "SHA256:DNmT5PDkIoaTKrFONcLjZwtDldqwHoo5Fzcej3F2Yiw";
    const RSA_FINGERPRINT: &str = "SHA256:vqNoAcCPIuJe8jVfhmh75YMXHhg39TPJaJTnYUv1+No";
    const ECDSA_PUBLIC: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBH0KCrbVc6kG+y5amHQYmUH1zdp95W3HmcqA96wO3/z2cEMmhehWIGQ7av6T/kHcgdNfkwz4cjQPXrA+aRQHmrk= dbbr-test";
    const RSA_1024_PUBLIC: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDu3ASB5CcHttrLOCN/gdOTJeltZQV/2tjFKDZPEYcb4YREpQaDsrKJ0KQKfpTB3Z4RvqX8Z2UFBtFyBAHBFNoHIYpfj1muQm6EDLAIQPBcki+oaoSl/QDDy6zUV2/LDqwuVtj8O1d7whnaPS0JrawXxPt6trbMciIsAxU37JYIvQ== dbbr-test";
    /// From age's own tests.
    const TAG_PUBLIC: &str = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";

    /// From age's own tests (a hybrid post-quantum recipient).
    const TAGPQ_PUBLIC: &str = "age1tagpq1m3e4wvp6hzcrn9exhy0ae3xfx2sjymp594k3tg7j4dpmj922we65vtnmrt2pyallax8669zqkr2pmfchptr4n38kug2xmcmp3adk2lnjqu00x5kxz5pvhmrltvfh9wuq973pcx35cnq8syn9qd3tzpehgztl4xpzr3tpd67g8af9trnjpc05gh7wu536aq4qt2y8zhsm4tvrfpsfl36qs5fpzysnk3sp9w77qzeg49357xex40v4s2lvt620swyys7u8yxdcnu4rkkwxdmt55gsuc3h5c5swahnegjgqwc60hn085ec3sjztwm45l44y3j2at9t6v9zra4ek3kek6waecqm98yaxl37w0d2zra626nz63jdm5sg59w7lyptw83zm6fntd8d0x03a9z6h9prfgpygzar6zrxjcrt4cdctk2mhf95s4a6v4zklfd49xhpsaeujm57thx2x3e3hwzc86ftfhmq5mkxxz3d6r8ws24xj4qfn73eyezg2wy094e3why592pghz27ruq3vkyegrv80eftnw9wqzwgvnwyseaus0yt84fylzrpzp6x2fguxuqjmgudr8xd33qm30evdpxd3jvjg8qh4q60kyq80jgff369k7nrepdc38grd2dava520excqp0ey0x39khx8ry03yffcatgv84fsx5j49djpapedsy693zute5xv5g2ewzrlj5se7akvkc4g4vmzhputpq8eyj9wz5dz6qtn7g3cfpd95nahw4ytspan0feyye04dcylv24ege7zkaj004gjwcxqxfqu2quawa83sx452jqjn8t48czp0xspwgnmvjyhttzzy6nhq8xzkdwnvsfefkwva6asrqc93zjn4rly5gnlv93xy3uzmr39szvjnf63426qzyeyvguc4vdcquwgsxgq236afcpqz866ny4tn7ckc0umefj242rt5vtvwqzzrvfev2mpvqcufp9pqvefyv4ftyuhgausfzuaadsczeykmft5wv3frzgrcp9ztr93h478ke4t86spp2uhyjkj73mp9g92ddk2fpv7v3njzsqgwhq3789sqrgkskehn0zjscckhwftyq4vet7vrlx2hs5kd9cwnq6t0djffhh3zquh4j3p0yaj9z2rc9wykg0usqw7983rrgur9jg8rnnqypwcz2lyclnnc705fc5g3an93ps60q6mxqp85u0ewtxdjlqcks84yduft0a0g6e7naew3v9u2d08knarvajn8q3gq9pgxde3s7nx94lus48wwvw2xjm7k82tvylec2393jdsuvch2xpe77w8hpv9nvsxfsrs270njpmfvpmgyk2cffl9tjp3qqcc4dfkf5rme2dg0x7ew8g39www5smm705q5da4eqvnqwrkavtq6xje9ss38hnkglz4eddz8f5qruvqmq2ff9l22gwkv8h432rdkysy0grkul8e2fedvkyyapfxt760udcgu92m54wl9yavmj4ga3ph9r5n99cjrq6wj5v33x33fe5vkjvfwnnt40wuv2hyexc9f4ylyqv9ldqq9epd4yuv8vrsfx2qy2kqz08kqhnzspy6s0x8fa5c2xkg5y2q0rvz4vnk7rp0acg6eksc3t7cxnn8y7glkjsqja3p56uz6vvhcw55d3ysad0hvsqxpjnc7svenf2gc5xn5kyr0et2vvyruxlnpqcdpqh9pzplumy5yzjxftyzh9ujfw0jq7ee60zx2x23p0jzyh9dvmly8p9h9ysptlqu7kwnejd65dnr75a0np2fvke8xen38r57w6z3wz3mycjmmn267wwxndfh9jdps7uxtct2wwfgamkpa5ap8s96lhfjztpwcm6fguhphu38yunu2v4vz3syzrvgwtqpemkewzp766nyu6texxvjlaemnhyyqutkcy6a42vqfsz49rw5wr4gt70r4vdaasehqjg46fnyts4sthrxadfllha3avu49wsj2c4jx";

    fn age_key() -> String {
        x25519::Identity::generate().to_public().to_string()
    }

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    fn config_error(inline: Option<&str>, file: Option<&Path>) -> String {
        match Recipients::from_config(inline, file) {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn none_when_nothing_configured() {
        assert!(Recipients::from_config(None, None).unwrap().is_none());
    }

    #[test]
    fn inline_separated_by_commas_and_newlines() {
        let (a, b) = (age_key(), age_key());
        let text = format!(" {a} ,\n{ED25519_PUBLIC}\n\n, {b}\r\n");
        let parsed = Recipients::from_config(Some(&text), None).unwrap().unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(
            parsed.fingerprints(),
            [a, ED25519_FINGERPRINT.to_owned(), b]
        );
    }

    #[test]
    fn file_with_comments_and_blank_lines() {
        let a = age_key();
        let file = file_with(&format!(
            "# team keys\n\n{a}\n  # old key removed\n{RSA_PUBLIC}\n{TAG_PUBLIC}\n"
        ));
        let parsed = Recipients::from_config(None, Some(file.path()))
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.fingerprints(),
            [a, RSA_FINGERPRINT.to_owned(), TAG_PUBLIC.to_owned()]
        );
        assert!(!parsed.is_empty());
    }

    #[test]
    fn union_of_inline_and_file_without_duplicates() {
        let (a, b) = (age_key(), age_key());
        let file = file_with(&format!("{b}\n{a}\n"));
        let parsed = Recipients::from_config(Some(&a), Some(file.path()))
            .unwrap()
            .unwrap();
        assert_eq!(parsed.fingerprints(), [a.clone(), b]);
        let debug = format!("{parsed:?}");
        assert!(debug.starts_with("Recipients { fingerprints: [") && debug.contains(&a));
    }

    #[test]
    fn invalid_recipient_names_item_and_line() {
        let a = age_key();
        let message = config_error(Some(&format!("{a}, not-a-key")), None);
        assert!(
            message.starts_with("recipient 2 is not an age or ssh-ed25519/ssh-rsa recipient"),
            "{message}"
        );
        assert!(
            !message.contains("not-a-key"),
            "echoed the value: {message}"
        );

        let file = file_with(&format!("# keys\n{a}\nage1nope\n"));
        let message = config_error(None, Some(file.path()));
        let expected = format!(
            "recipients file {} line 3 is not an age or ssh-ed25519/ssh-rsa recipient",
            file.path().display()
        );
        assert!(message.starts_with(&expected), "{message}");
    }

    #[test]
    fn unsupported_ssh_keys_rejected() {
        let message = config_error(Some(ECDSA_PUBLIC), None);
        assert!(
            message.starts_with(
                "recipient 1 is a key of type ecdsa-sha2-nistp256, which age does not support"
            ),
            "{message}"
        );
        let message = config_error(Some(RSA_1024_PUBLIC), None);
        assert!(message.contains("shorter than 2048 bits"), "{message}");
    }

    #[test]
    fn private_key_rejected_without_echo() {
        let secret = x25519::Identity::generate();
        let secret = age::secrecy::ExposeSecret::expose_secret(&secret.to_string()).to_owned();
        let message = config_error(Some(&secret), None);
        assert!(
            message.contains("recipient 1 is a private key"),
            "{message}"
        );
        assert!(!message.contains(&secret));
    }

    #[test]
    fn empty_sources_rejected() {
        let file = file_with("# nothing here yet\n\n");
        let message = config_error(None, Some(file.path()));
        assert!(message.contains("contains no recipient: refusing to upload unencrypted"));
        assert!(message.contains(&file.path().display().to_string()));
        let message = config_error(Some(" , \n"), None);
        assert!(message.starts_with("the recipients contain no recipient"));
    }

    #[test]
    fn unreadable_file_names_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pub");
        let message = config_error(Some(&age_key()), Some(&missing));
        assert!(message.starts_with(&format!(
            "cannot read recipients file {}",
            missing.display()
        )));
    }

    #[test]
    fn fingerprints_match_ssh_keygen() {
        let text = format!("{ED25519_PUBLIC}\n{RSA_PUBLIC}");
        let parsed = Recipients::from_config(Some(&text), None).unwrap().unwrap();
        assert_eq!(
            parsed.fingerprints(),
            [ED25519_FINGERPRINT, RSA_FINGERPRINT]
        );
    }

    #[test]
    fn post_quantum_mixed_with_classic_rejected() {
        let parsed = Recipients::from_config(Some(TAGPQ_PUBLIC), None)
            .unwrap()
            .unwrap();
        assert_eq!(parsed.fingerprints(), [TAGPQ_PUBLIC]);
        let message = config_error(Some(&format!("{TAGPQ_PUBLIC}\n{}", age_key())), None);
        assert!(message.contains("mix post-quantum"), "{message}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any text, and any text around real keys: recipients or a one-line
        /// configuration error about them, never a panic.
        #[test]
        fn any_recipients_text_parses_or_is_refused(
            noise in "(age1|ssh-ed25519 |ssh-rsa |AAAA|AGE-SECRET-KEY-1|[a-z0-9+/=]|[,#\n ]|\\PC){0,40}",
            with_key in proptest::bool::ANY,
        ) {
            let text = if with_key { format!("{},{noise}", age_key()) } else { noise.clone() };
            match Recipients::parse(&text) {
                Ok(r) => proptest::prop_assert!(!r.is_empty() && r.len() == r.fingerprints().len()),
                Err(e) => {
                    proptest::prop_assert!(matches!(e.setting(), Some(Setting::Recipients)));
                    proptest::prop_assert!(!e.to_string().contains('\n'), "{}", e);
                }
            }
        }
    }
}
