package main

// #include <stdint.h>
// #include <stdlib.h>
import "C"

import (
	"errors"
	"unsafe"
)

var errBadHandle = errors.New("invalid or finished handle")

// setErr stores err (or NULL) in *out.
func setErr(out **C.char, err error) {
	*out = cError(err)
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

// DbbrUploadWrite passes len bytes to the upload. It returns 0, or -1 with
// *err set; the upload must then still be aborted.
//
//export DbbrUploadWrite
func DbbrUploadWrite(h C.uint64_t, buf *C.char, n C.size_t, err **C.char) C.int {
	u, ok := uploads.get(uint64(h))
	if !ok {
		setErr(err, errBadHandle)
		return -1
	}
	// io.Pipe's Write returns only once readers copied the bytes out, so
	// the C buffer is not used after the call.
	e := u.write(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
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
	u, ok := uploads.remove(uint64(h))
	if !ok {
		setErr(err, errBadHandle)
		return nil
	}
	info, e := u.commit()
	setErr(err, e)
	if e != nil {
		return nil
	}
	return C.CString(info)
}

// DbbrUploadAbort stops the upload and removes whatever it wrote.
//
//export DbbrUploadAbort
func DbbrUploadAbort(h C.uint64_t) {
	if u, ok := uploads.remove(uint64(h)); ok {
		u.abort()
	}
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
	d, ok := downloads.get(uint64(h))
	if !ok {
		setErr(err, errBadHandle)
		return -1
	}
	got, e := d.read(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
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
	if d, ok := downloads.remove(uint64(h)); ok {
		_ = d.in.Close()
	}
}

// DbbrList lists dir (recursively if recurse != 0) as a JSON array of
// {"path","size","mod_time","is_dir"}; a missing dir lists as [].
//
//export DbbrList
func DbbrList(fsString, dir *C.char, recurse C.int, err **C.char) *C.char {
	out, e := listJSON(C.GoString(fsString), C.GoString(dir), recurse != 0)
	setErr(err, e)
	if e != nil {
		return nil
	}
	return C.CString(out)
}

// DbbrStat describes one object as JSON, or sets *err (kind "not_found").
//
//export DbbrStat
func DbbrStat(fsString, path *C.char, err **C.char) *C.char {
	out, e := statJSON(C.GoString(fsString), C.GoString(path))
	setErr(err, e)
	if e != nil {
		return nil
	}
	return C.CString(out)
}

// DbbrDelete removes one object; it returns NULL or an error.
//
//export DbbrDelete
func DbbrDelete(fsString, path *C.char) *C.char {
	return cError(deleteObject(C.GoString(fsString), C.GoString(path)))
}

// DbbrCheckRemote checks that a remote is configured and its backend
// exists, without any network I/O. It returns NULL or an error.
//
//export DbbrCheckRemote
func DbbrCheckRemote(fsString *C.char) *C.char {
	return cError(checkRemote(C.GoString(fsString)))
}
