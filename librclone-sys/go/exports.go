package main

// Every function of the C API, as thin wrappers: they convert C values and
// leave the work to the file of their concern. See the package doc for the
// conventions shared by all of them.
//
// This is the only file that uses cgo: C types, C strings and C memory
// stop here, and every other file is plain Go (errors, for one, reach this
// file as Go errors and leave it as C strings of their JSON).

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
	"time"
	"unsafe"

	"github.com/rclone/rclone/librclone/librclone"
)

// DbbrSetLogger routes rclone's log lines to fn instead of stderr. Call it
// before DbbrInit so that nothing is printed behind the host's back.
//
//export DbbrSetLogger
func DbbrSetLogger(fn C.dbbr_log_fn) {
	setHostLogger(func(level slog.Level, text string) {
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

// DbbrInterrupt makes every storage call in progress fail at once with
// kind "interrupted", and every later one before any I/O. For a host that
// is shutting down; it cannot be undone.
//
//export DbbrInterrupt
func DbbrInterrupt() {
	interrupt()
}

// DbbrDrain waits until every storage call that an interrupt made the host
// give up on has ended and cleaned up after itself (a claim removed, an
// upload aborted), or for ms milliseconds at most. It returns 1 if they
// all ended, 0 otherwise. For a host about to exit after an interrupt.
//
//export DbbrDrain
func DbbrDrain(ms C.int64_t) C.int {
	if drain(time.Duration(ms) * time.Millisecond) {
		return 1
	}
	return 0
}

// DbbrRetries returns how many storage requests rclone has retried in this
// process so far (a 5xx answer, a reset connection, ...).
//
//export DbbrRetries
func DbbrRetries() C.int64_t {
	return C.int64_t(lowLevelRetries.Load())
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

// DbbrUploadStart opens a streaming upload of path (relative to the remote
// root fs, e.g. "store:") and returns its handle, or 0 with *err set.
//
//export DbbrUploadStart
func DbbrUploadStart(fsString, path *C.char, err **C.char) C.uint64_t {
	h, e := startUpload(C.GoString(fsString), C.GoString(path))
	setErr(err, e)
	return C.uint64_t(h)
}

// DbbrSizedRemote returns the remote an upload of a stream should go
// through, given the chunk size and most parts the host computed for it
// (see sizedFsString), or NULL with *err set. Free it with DbbrFree.
//
//export DbbrSizedRemote
func DbbrSizedRemote(fsString *C.char, chunkSize, maxParts C.int64_t, err **C.char) *C.char {
	if e := initialise(); e != nil {
		return cResult("", e, err)
	}
	s, e := sizedFsString(C.GoString(fsString), int64(chunkSize), int64(maxParts))
	return cResult(s, e, err)
}

// DbbrUploadWrite passes len bytes to the upload. It returns 0, or -1 with
// *err set; the upload must then still be aborted.
//
//export DbbrUploadWrite
func DbbrUploadWrite(h C.uint64_t, buf *C.char, n C.size_t, err **C.char) C.int {
	// The upload returns only once rclone has copied the bytes out, so the
	// C buffer is not used after the call.
	e := writeUpload(uint64(h), cBytes(buf, n))
	setErr(err, e)
	if e != nil {
		return -1
	}
	return 0
}

// DbbrUploadCommit ends the input and makes the object visible under its
// name. It returns {"path","size"} JSON, or NULL with *err set (nothing is
// left behind then). The handle is finished either way.
//
//export DbbrUploadCommit
func DbbrUploadCommit(h C.uint64_t, err **C.char) *C.char {
	info, e := commitUpload(uint64(h))
	return cResult(info, e, err)
}

// DbbrUploadAbort stops the upload and removes whatever it wrote.
//
//export DbbrUploadAbort
func DbbrUploadAbort(h C.uint64_t) {
	abortUpload(uint64(h))
}

// DbbrClaimHold claims path (a name the host writes piece by piece, such as
// a set's folder) until DbbrClaimRelease, renewing the claim meanwhile, so
// that other runs and leftover clean-ups leave it alone. It returns the
// claim's handle, or 0 with *err set ("busy" when another run holds it).
//
//export DbbrClaimHold
func DbbrClaimHold(fsString, path *C.char, err **C.char) C.uint64_t {
	h, e := holdClaim(C.GoString(fsString), C.GoString(path))
	setErr(err, e)
	return C.uint64_t(h)
}

// DbbrClaimRelease removes the claim of a handle DbbrClaimHold returned.
//
//export DbbrClaimRelease
func DbbrClaimRelease(h C.uint64_t) {
	releaseHeld(uint64(h))
}

// DbbrDownloadStart opens path for reading; 0 with *err set on failure.
//
//export DbbrDownloadStart
func DbbrDownloadStart(fsString, path *C.char, err **C.char) C.uint64_t {
	h, e := startDownload(C.GoString(fsString), C.GoString(path))
	setErr(err, e)
	return C.uint64_t(h)
}

// DbbrDownloadRead reads up to n bytes into buf: the count, 0 at the end
// (after the hash check), or -1 with *err set.
//
//export DbbrDownloadRead
func DbbrDownloadRead(h C.uint64_t, buf *C.char, n C.size_t, err **C.char) C.int64_t {
	got, e := readDownload(uint64(h), cBytes(buf, n))
	setErr(err, e)
	if e != nil {
		return -1
	}
	return C.int64_t(got)
}

// DbbrDownloadClose releases a download.
//
//export DbbrDownloadClose
func DbbrDownloadClose(h C.uint64_t) {
	closeDownload(uint64(h))
}

// DbbrList lists dir (recursively if recurse != 0) as a JSON array of
// {"path","size","mod_time","is_dir"}; a missing dir lists as [].
//
//export DbbrList
func DbbrList(fsString, dir *C.char, recurse C.int, err **C.char) *C.char {
	out, e := listJSON(C.GoString(fsString), C.GoString(dir), recurse != 0)
	return cResult(out, e, err)
}

// DbbrStat describes one object as JSON, or sets *err (kind "not_found").
//
//export DbbrStat
func DbbrStat(fsString, path *C.char, err **C.char) *C.char {
	out, e := statJSON(C.GoString(fsString), C.GoString(path))
	return cResult(out, e, err)
}

// DbbrDelete removes one object; it returns NULL or an error.
//
//export DbbrDelete
func DbbrDelete(fsString, path *C.char) *C.char {
	return cError(deleteObject(C.GoString(fsString), C.GoString(path)))
}

// DbbrDeleteCommitted removes the object an upload committed if it is
// still there unchanged: size and mod_time as the commit reported them. It
// returns NULL or an error; another object at the name is left alone.
//
//export DbbrDeleteCommitted
func DbbrDeleteCommitted(fsString, path *C.char, size C.int64_t, modTime *C.char) *C.char {
	return cError(deleteCommitted(C.GoString(fsString), C.GoString(path), int64(size), C.GoString(modTime)))
}

// DbbrDeleteLeftover removes a leftover object of an earlier run if it is
// still there unchanged (size and mod_time as a listing showed them) and
// not reached through a symbolic link. It returns NULL or an error.
//
//export DbbrDeleteLeftover
func DbbrDeleteLeftover(fsString, path *C.char, size C.int64_t, modTime *C.char) *C.char {
	return cError(deleteLeftover(C.GoString(fsString), C.GoString(path), int64(size), C.GoString(modTime)))
}

// DbbrCheckRemote checks that a remote is configured and its backend
// exists, without any network I/O. It returns NULL or an error.
//
//export DbbrCheckRemote
func DbbrCheckRemote(fsString *C.char) *C.char {
	return cError(checkRemote(C.GoString(fsString)))
}

// cBytes views the host's buffer of n bytes as a slice, for the duration
// of the call only.
func cBytes(buf *C.char, n C.size_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
}

// cResult returns out as a malloc'd string, or NULL with *err set.
func cResult(out string, e error, err **C.char) *C.char {
	setErr(err, e)
	if e != nil {
		return nil
	}
	return C.CString(out)
}

// cError converts err into a malloc'd JSON error, or NULL for nil.
func cError(err error) *C.char {
	if err == nil {
		return nil
	}
	return C.CString(errorJSON(err))
}

// setErr stores err (or NULL) in *out.
func setErr(out **C.char, err error) {
	*out = cError(err)
}
