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
// One file per concern: startup.go (applying the RCLONE_* environment),
// logging.go and tls.go (the settings rclone would exit on), fs.go
// (opening remotes), upload.go, download.go, listing.go (list, stat,
// delete), leftover.go (deleting an earlier run's leftovers), errors.go,
// registry.go (handles held by the host).
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
