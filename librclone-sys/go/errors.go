package main

// #include <stdlib.h>
import "C"

import (
	"encoding/json"
	"errors"

	"github.com/rclone/rclone/fs"
)

// kindError is an error with a machine readable kind for the Rust side.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func configError(err error) error { return &kindError{kind: "config", err: err} }
func existsError(err error) error { return &kindError{kind: "exists", err: err} }

// errorJSON renders err for the Rust side as {"kind","message"}.
func errorJSON(err error) string {
	kind := "other"
	var ke *kindError
	switch {
	case errors.As(err, &ke):
		kind = ke.kind
	case errors.Is(err, fs.ErrorNotFoundInConfigFile):
		kind = "not_configured"
	case errors.Is(err, fs.ErrorObjectNotFound), errors.Is(err, fs.ErrorDirNotFound):
		kind = "not_found"
	}
	out, _ := json.Marshal(map[string]string{"kind": kind, "message": err.Error()})
	return string(out)
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
