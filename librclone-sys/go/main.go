// Package main is dbbr's embedded rclone: every rclone backend, built as a
// C archive, with a small C API for streaming uploads and downloads that
// stock librclone does not have.
//
// Conventions of the C API (every exported function is in exports.go):
//   - Strings passed in are NUL-terminated UTF-8 and are only read during the
//     call.
//   - Strings returned are allocated with malloc and must be released with
//     DbbrFree.
//   - A call that can fail returns its error as a JSON object
//     {"kind": "...", "message": "..."} through an out-parameter; a NULL
//     out-parameter value means success. The kinds are listed in errors.go.
//
// One file per concern:
//   - main.go: this doc, the storage backends linked in, and init.
//   - exports.go: the C API (exported functions, C types); the only cgo file.
//   - errors.go: the error kinds, and the error JSON handed to the host.
//   - startup.go: initialise: RCLONE_* applied as rclone's command line does.
//   - logging.go: rclone's lines to the host, log settings, retries counted.
//   - tls.go: the checks of the TLS files that rclone would exit on.
//   - fs.go: opening remotes; a bad setting told apart from a failure.
//   - cancel.go: interrupt, calls that return at once on it, and drain.
//   - registry.go: the numeric handles of uploads and downloads.
//   - upload.go: streaming uploads, committed or aborted.
//   - claim.go: claims, which keep other runs off a name being written.
//   - place.go: a finished upload put under its name, replacing nothing.
//   - unfinished.go: clearing what an interrupted upload left (S3, Azure).
//   - download.go: streaming downloads, their hash checked at the end.
//   - listing.go: list, stat and delete, and deleting a committed upload.
//   - leftover.go: deleting an earlier run's leftovers, never via a link.
//   - sizing.go: the S3 part size for a stream of the size expected.
//   - envguard/: hides RCLONE_* while rclone's packages initialise.
//
// The tests of NAME.go are in NAME_test.go; s3server_test.go starts the
// S3 server (rclone's own, over a temp dir) some of them use.
package main

import (
	"github.com/dbbr/librclone-sys/envguard"
	_ "github.com/rclone/rclone/backend/all" // every storage backend
)

// main is never called: the package is built as a C archive.
func main() {}

// init runs after every imported package has initialised, while envguard
// still hides the RCLONE_* environment.
func init() {
	defineFlags()
	envguard.Restore()
}
