//! WebDAV (`rclone serve webdav`) configured by docs/storage.md's recipe.

use std::path::Path;

use crate::common::backend_checks::*;
use crate::common::*;

#[test]
fn backends_webdav_round_trip_and_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let password = tmp.path().join("webdav-password");
    write_private(&password, &setting("DBBR_TEST_WEBDAV_PASSWORD"));
    let folder = unique("dav");
    let user = format!("_USER={}", setting("DBBR_TEST_WEBDAV_USER"));
    let prefix = format!("UPLOAD_PREFIX={folder}");
    let vars = recipe(
        "webdav",
        &[
            (
                "https://dav.example.com/backup",
                &setting("DBBR_TEST_WEBDAV_URL"),
            ),
            ("_USER=backup", &user),
            ("/run/secrets/webdav-password", password.to_str().unwrap()),
            ("UPLOAD_PREFIX=postgres", &prefix),
        ],
    );
    let dir = Path::new(&setting("DBBR_TEST_WEBDAV_ROOT")).join(&folder);
    let b = Backend {
        vars: vars.clone(),
        server_view: Box::new(move || disk_view(&dir)),
    };
    b.round_trip();
    let url = setting("DBBR_TEST_WEBDAV_URL");
    let port = url.rsplit(':').next().unwrap();
    b.fails_cleanly(
        "unreachable",
        &with_var(
            &vars,
            "RCLONE_CONFIG_STORE_URL",
            &url.replace(port, &closed_port()),
        ),
        &["connection refused"],
    );
    b.fails_cleanly(
        "wrong user",
        &with_var(&vars, "RCLONE_CONFIG_STORE_USER", "someone-else"),
        &["401"],
    );
    // rclone cannot stream to a WebDAV server of vendor `other`: it spools
    // the dump to a local file and uploads it at the end.
    b.aborted_upload_leaves_nothing(|_, spooled| !spooled.is_empty());
}
