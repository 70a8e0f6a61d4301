//! Azure Blob (Azurite) configured by the recipes of docs/storage.md: a SAS URL, and
//! the account name and key.

use std::process::Command;

use crate::common::backend_checks::*;
use crate::common::*;

/// The blobs below `container/postgres/` as Azurite lists them, with
/// uncommitted ones (blocks not yet put together) included.
fn azure_view(container: &str) -> Vec<String> {
    let sas = setting("DBBR_TEST_AZURE_SAS_URL");
    let query = sas.split_once('?').unwrap().1;
    let url = format!(
        "{}/{container}?restype=container&comp=list&include=uncommittedblobs&prefix=postgres/&{query}",
        setting("DBBR_TEST_AZURE_ENDPOINT")
    );
    let xml = run_ok(Command::new("curl").args(["-sS", &url]));
    if xml.contains("<Code>ContainerNotFound</Code>") {
        return Vec::new();
    }
    assert!(xml.contains("<EnumerationResults"), "{xml}");
    let mut names: Vec<String> = xml
        .split("<Name>")
        .skip(1)
        .map(|s| s.split("</Name>").next().unwrap())
        .map(|n| n.strip_prefix("postgres/").unwrap_or(n).to_string())
        .collect();
    names.sort();
    names
}

fn backend(vars: Vec<(String, String)>, container: &str) -> Backend {
    let container = container.to_string();
    Backend {
        vars,
        server_view: Box::new(move || azure_view(&container)),
    }
}

/// Whether the view shows a backup's data object (not a claim) that the
/// running backup has not committed: uncommitted blocks.
fn uncommitted_data(view: &[String]) -> bool {
    view.iter()
        .any(|n| n.ends_with(".sql.gz") && !n.starts_with('.'))
}

#[test]
fn backends_azure_sas_url() {
    let tmp = tempfile::tempdir().unwrap();
    let sas_file = tmp.path().join("azure-sas-url");
    write_private(&sas_file, &setting("DBBR_TEST_AZURE_SAS_URL"));
    let container = unique("azsas");
    let prefix = format!("UPLOAD_PREFIX={container}/postgres");
    let vars = recipe(
        "azure-sas",
        &[
            ("/run/secrets/azure-sas-url", sas_file.to_str().unwrap()),
            ("UPLOAD_PREFIX=my-container/postgres", &prefix),
        ],
    );
    let b = backend(vars.clone(), &container);
    b.round_trip();
    let sas = setting("DBBR_TEST_AZURE_SAS_URL");
    let (head, sig) = sas.split_once("&sig=").unwrap();
    // Another first character (a signature that starts with `A` made the
    // forgery the real one).
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{head}&sig={first}{}", &sig[1..]);
    b.fails_cleanly(
        "wrong signature",
        &with_var(&vars, "RCLONE_CONFIG_STORE_SAS_URL", &forged),
        &["403"],
    );
    b.aborted_upload_leaves_nothing(|view, _| uncommitted_data(view));
}

#[test]
fn backends_azure_account_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("azure-key");
    write_private(&key_file, &setting("DBBR_TEST_AZURE_KEY"));
    let container = unique("azkey");
    let prefix = format!("UPLOAD_PREFIX={container}/postgres");
    let account = format!("_ACCOUNT={}", setting("DBBR_TEST_AZURE_ACCOUNT"));
    let endpoint = setting("DBBR_TEST_AZURE_ENDPOINT");
    let vars = recipe(
        "azure-key",
        &[
            ("https://mystorageaccount.blob.core.windows.net", &endpoint),
            ("_ACCOUNT=mystorageaccount", &account),
            ("/run/secrets/azure-key", key_file.to_str().unwrap()),
            ("UPLOAD_PREFIX=my-container/postgres", &prefix),
        ],
    );
    let b = backend(vars.clone(), &container);
    b.round_trip();
    let port = endpoint
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    // The Azure SDK retries a refused connection with growing delays, and
    // rclone retries that 10 times: about 3 minutes by default (see
    // docs/storage.md). One low-level retry keeps this test short.
    let mut unreachable = with_var(
        &vars,
        "RCLONE_CONFIG_STORE_ENDPOINT",
        &endpoint.replace(port, &closed_port()),
    );
    unreachable.push(("RCLONE_LOW_LEVEL_RETRIES".into(), "1".into()));
    b.fails_cleanly("unreachable", &unreachable, &["connection refused"]);
    let wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    b.fails_cleanly(
        "wrong key",
        &with_var(&vars, "RCLONE_CONFIG_STORE_KEY", wrong_key),
        &["403"],
    );
}
