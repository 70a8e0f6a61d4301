package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/operations"
)

// errAborted is what the upload's reader sees when the host aborts.
var errAborted = errors.New("upload aborted")

// upload is one streaming upload: the host writes into pw, rclone's Rcat
// reads from the other end of the pipe in its own goroutine.
type upload struct {
	f        fs.Fs
	fsString string
	claim    *claim
	final    string // where the object goes on commit
	staging  string // where it is written; differs from final when partial uploads are visible
	pw       *io.PipeWriter
	done     chan struct{}
	obj      fs.Object // set by the goroutine before done is closed
	err      error     // likewise
}

var uploads = newRegistry[*upload]()

// startUpload opens an upload of remote path p. It fails if p exists or
// another run is writing it (see claim).
func startUpload(fsString, p string) (uint64, error) {
	ctx, f, err := openFs(fsString)
	if err != nil {
		return 0, err
	}
	if p == "" || p[len(p)-1] == '/' {
		return 0, configError(fmt.Errorf("object path %q names no file", p))
	}
	if err := checkFree(ctx, f, p); err != nil {
		return 0, err
	}
	c, err := takeClaim(ctx, f, p)
	if err != nil {
		return 0, err
	}
	// Checked again under the claim: a run that held it may have finished.
	if err := checkFree(ctx, f, p); err != nil {
		c.release()
		return 0, err
	}
	u := &upload{f: f, fsString: fsString, claim: c, final: p, staging: p, done: make(chan struct{})}
	// Where a half-written object would be visible under its name (local,
	// sftp, smb, ftp, ...), write it under a temporary name and move it on
	// commit. Object stores only show an object once its upload completes.
	if f.Features().PartialUploads && f.Features().Move != nil {
		u.staging = stagingName(p)
	}
	pr, pw := io.Pipe()
	u.pw = pw
	uploadCtx := conditionalContext(ctx, f)
	go func() {
		defer close(u.done)
		u.obj, u.err = operations.Rcat(uploadCtx, f, u.staging, pr, time.Now(), nil)
		if refusedAsExisting(u.err) {
			u.err = existsError(errors.New(p))
		}
	}()
	return uploads.add(u), nil
}

// checkFree fails unless nothing is at p.
func checkFree(ctx context.Context, f fs.Fs, p string) error {
	_, err := f.NewObject(ctx, p)
	switch {
	case err == nil:
		return existsError(errors.New(p))
	case errors.Is(err, fs.ErrorIsDir):
		// Found now rather than when the finished upload cannot be moved
		// into place, after the whole dump.
		return existsError(fmt.Errorf("%s (a directory)", p))
	case errors.Is(err, fs.ErrorObjectNotFound), errors.Is(err, fs.ErrorDirNotFound):
		return nil
	default:
		return err
	}
}

// stagingName returns a hidden, unique name next to p.
func stagingName(p string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	dir, leaf := path.Split(p)
	return dir + "." + leaf + "." + hex.EncodeToString(b[:]) + ".partial"
}

// writeUpload passes buf to upload h; it returns once rclone has taken it.
func writeUpload(h uint64, buf []byte) error {
	u, ok := uploads.get(h)
	if !ok {
		return errBadHandle
	}
	return u.write(buf)
}

// commitUpload finishes upload h (see commit); the handle is released
// either way.
func commitUpload(h uint64) (string, error) {
	u, ok := uploads.remove(h)
	if !ok {
		return "", errBadHandle
	}
	return u.commit()
}

// abortUpload aborts upload h and releases its handle; an unknown handle
// is ignored.
func abortUpload(h uint64) {
	if u, ok := uploads.remove(h); ok {
		u.abort()
	}
}

// write passes buf to the upload; it returns once rclone has taken it.
func (u *upload) write(buf []byte) error {
	if err := base.Err(); err != nil {
		return err
	}
	if _, err := u.pw.Write(buf); err != nil {
		// The reader side is closed: the upload failed. Report why.
		<-u.done
		if u.err != nil {
			return u.err
		}
		return err
	}
	return nil
}

// commit ends the input, waits for the upload and puts it in place (see
// place). On any failure nothing is left at the final name or the staging
// name.
func (u *upload) commit() (string, error) {
	if err := base.Err(); err != nil {
		// Interrupted: whatever was sent is not the whole input.
		u.abort()
		return "", err
	}
	defer u.claim.release()
	_ = u.pw.Close()
	<-u.done
	if u.err != nil {
		u.removeStaging()
		return "", u.err
	}
	obj := u.obj
	if u.staging != u.final {
		placed, err := place(base, u.f, u.fsString, obj, u.final)
		if err != nil {
			u.removeStaging()
			return "", err
		}
		obj = placed
	}
	ctx, cancel := cleanupContext()
	defer cancel()
	info, _ := json.Marshal(map[string]any{"path": obj.Remote(), "size": obj.Size(), "mod_time": rfc3339(obj.ModTime(ctx))})
	return string(info), nil
}

// abort makes the upload fail and removes whatever it wrote.
func (u *upload) abort() {
	defer u.claim.release()
	_ = u.pw.CloseWithError(errAborted)
	<-u.done
	ctx, cancel := cleanupContext()
	defer cancel()
	if u.err != nil {
		clearUnfinished(u.f, u.fsString, u.staging)
	}
	if u.err == nil && u.obj != nil && u.staging == u.final {
		// Rcat finished before seeing the abort (the input had ended):
		// the object is complete but not wanted.
		if err := u.obj.Remove(ctx); err != nil {
			fs.Errorf(u.final, "failed to remove aborted upload: %v", err)
		}
	}
	u.removeStaging()
}

// removeStaging deletes the staging object if one is there.
func (u *upload) removeStaging() {
	if u.staging == u.final {
		return
	}
	ctx, cancel := cleanupContext()
	defer cancel()
	if obj, err := u.f.NewObject(ctx, u.staging); err == nil {
		if err := obj.Remove(ctx); err != nil {
			fs.Errorf(u.staging, "failed to remove partial upload: %v", err)
		}
	}
}
