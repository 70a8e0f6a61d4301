package main

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/rclone/rclone/fs"
)

// errorKind is the machine readable "kind" of an error handed to the host.
type errorKind string

// The error kinds: the only values of "kind" in the error JSON. The Rust
// side lists the same in librclone-sys/src/lib.rs (error_kind), and
// tests/error_kinds.rs fails unless both lists match: change them together.
const (
	// kindConfig: a setting (an RCLONE_* variable, the remote or the path)
	// is invalid; nothing was read or written.
	kindConfig errorKind = "config"
	// kindNotConfigured: the named remote is not in the config.
	kindNotConfigured errorKind = "not_configured"
	// kindExists: an upload's object name is taken.
	kindExists errorKind = "exists"
	// kindBusy: another run is writing an upload's object (see claim).
	kindBusy errorKind = "busy"
	// kindNotFound: the object or directory does not exist.
	kindNotFound errorKind = "not_found"
	// kindInterrupted: the host interrupted the call (see interrupt).
	kindInterrupted errorKind = "interrupted"
	// kindOther: any other failure (network, backend, I/O).
	kindOther errorKind = "other"
)

// kindError is an error with a kind for the host.
type kindError struct {
	kind errorKind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func configError(err error) error { return &kindError{kind: kindConfig, err: err} }
func existsError(err error) error { return &kindError{kind: kindExists, err: err} }
func busyError(err error) error   { return &kindError{kind: kindBusy, err: err} }

// kindOf tells the kind of err: its own, or the one rclone's error implies.
func kindOf(err error) errorKind {
	var ke *kindError
	switch {
	case errors.As(err, &ke):
		return ke.kind
	case interrupted(err):
		return kindInterrupted
	case errors.Is(err, fs.ErrorNotFoundInConfigFile):
		return kindNotConfigured
	case errors.Is(err, fs.ErrorObjectNotFound), errors.Is(err, fs.ErrorDirNotFound):
		return kindNotFound
	default:
		return kindOther
	}
}

// errorJSON renders err for the host as {"kind","message"}.
func errorJSON(err error) string {
	out, _ := json.Marshal(struct {
		Kind    errorKind `json:"kind"`
		Message string    `json:"message"`
	}{kindOf(err), oneLine(err.Error())})
	return string(out)
}

// oneLine joins the lines of a multi-line message (the Azure SDK's errors
// frame the request, the status and the body in lines of dashes) with
// "; ", leaving out blank lines, the frames and "no body" notes, so that
// the host can show it as one readable line.
func oneLine(msg string) string {
	if !strings.Contains(msg, "\n") {
		return msg
	}
	var parts []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Trim(line, "-") == "" || line == "Response contained no body" {
			continue
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, "; ")
}
