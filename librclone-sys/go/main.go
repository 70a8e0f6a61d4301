// Package main is dbbr's embedded rclone: every rclone backend, built as a
// C archive, with a small C API for streaming uploads and downloads that
// stock librclone does not have.
//
// Conventions of the C API:
//   - Strings passed in are NUL-terminated UTF-8 and are only read during the
//     call.
//   - Strings returned are allocated with malloc and must be released with
//     DbbrFree.
//   - A call that can fail returns its error as a JSON object
//     {"kind": "...", "message": "..."} through an out-parameter; a NULL
//     out-parameter value means success.
package main

/*
#include <stdint.h>
#include <stdlib.h>

// dbbr_log_fn receives one of rclone's log lines: its slog level and text.
typedef void (*dbbr_log_fn)(int32_t level, const char *text, size_t len);

static inline void dbbr_call_log(dbbr_log_fn fn, int32_t level, const char *text, size_t len) {
	fn(level, text, len);
}
*/
import "C"

import (
	"log/slog"
	"unsafe"

	"github.com/dbbr/librclone-sys/envguard"
	_ "github.com/rclone/rclone/backend/all" // every storage backend
	fslog "github.com/rclone/rclone/fs/log"
	"github.com/rclone/rclone/librclone/librclone"
)

func main() {}

// init runs after every imported package has initialised.
func init() {
	envguard.Restore()
}

// DbbrSetLogger routes rclone's log lines to fn instead of stderr. Call it
// before DbbrInit so that nothing is printed behind the host's back.
//
//export DbbrSetLogger
func DbbrSetLogger(fn C.dbbr_log_fn) {
	fslog.Handler.SetOutput(func(level slog.Level, text string) {
		ctext := C.CString(text)
		C.dbbr_call_log(fn, C.int32_t(level), ctext, C.size_t(len(text)))
		C.free(unsafe.Pointer(ctext))
	})
}

// DbbrInit applies the RCLONE_* environment as the rclone command line does
// and loads the config file. It returns NULL or an error (see package doc).
// It never prompts and never exits the process.
//
//export DbbrInit
func DbbrInit() *C.char {
	return cError(initialise())
}

// DbbrVersion returns the embedded rclone's version, e.g. "v1.76.0".
//
//export DbbrVersion
func DbbrVersion() *C.char {
	return C.CString(rcloneVersion())
}

// DbbrRPC runs an rc method (as librclone's RPC does) and returns its JSON
// output; *status receives the HTTP-like status (200 on success).
//
//export DbbrRPC
func DbbrRPC(method, input *C.char, status *C.int32_t) *C.char {
	out, st := librclone.RPC(C.GoString(method), C.GoString(input))
	*status = C.int32_t(st)
	return C.CString(out)
}

// DbbrFree releases a string returned by this library.
//
//export DbbrFree
func DbbrFree(s *C.char) {
	C.free(unsafe.Pointer(s))
}

// cError converts err into a malloc'd JSON error, or NULL for nil.
func cError(err error) *C.char {
	if err == nil {
		return nil
	}
	return C.CString(errorJSON(err))
}
