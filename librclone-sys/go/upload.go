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
	u, err := onRemote(fsString, func(ctx context.Context, f fs.Fs) (*upload, error) {
		return newUpload(ctx, f, fsString, p)
	}, func(u *upload) { u.abort() })
	if err != nil {
		return 0, err
	}
	return uploads.add(u), nil
}

// newUpload claims p, checks that it is free and starts rclone's upload.
func newUpload(ctx context.Context, f fs.Fs, fsString, p string) (*upload, error) {
	if p == "" || p[len(p)-1] == '/' {
		return nil, configError(fmt.Errorf("object path %q names no file", p))
	}
	if err := checkFree(ctx, f, p); err != nil {
		return nil, err
	}
	c, err := takeClaim(ctx, f, p)
	if err != nil {
		return nil, err
	}
	// Checked again under the claim: a run that held it may have finished.
	if err := checkFree(ctx, f, p); err != nil {
		c.releaseNow()
		return nil, err
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
	// An interrupt ends the input at once: a write waiting for rclone to
	// take its bytes (a backend that stopped reading) returns then.
	stop := context.AfterFunc(ctx, func() { _ = pr.CloseWithError(context.Canceled) })
	go func() {
		defer close(u.done)
		defer stop()
		u.obj, u.err = operations.Rcat(uploadCtx, f, u.staging, pr, time.Now(), nil)
		if refusedAsExisting(u.err) {
			u.err = existsError(errors.New(p))
		}
	}()
	return u, nil
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

// write passes buf to the upload; it returns once rclone has taken it, or
// at once on interrupt.
func (u *upload) write(buf []byte) error {
	if err := base.Err(); err != nil {
		return err
	}
	if _, err := u.pw.Write(buf); err != nil {
		// The reader side is closed: the upload failed. Report why.
		select {
		case <-u.done:
		case <-base.Done():
			return base.Err()
		}
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
	_ = u.pw.Close()
	select {
	case <-u.done:
	case <-base.Done():
		u.abort()
		return "", base.Err()
	}
	if u.err != nil {
		u.cleanUp(false)
		return "", u.err
	}
	obj := u.obj
	if u.staging != u.final {
		// A move that ends after the host was told it failed is undone.
		placed, err := await(base, func() (fs.Object, error) {
			return place(base, u.f, u.fsString, obj, u.final)
		}, func(placed fs.Object) {
			ctx, cancel := cleanupContext()
			defer cancel()
			if err := placed.Remove(ctx); err != nil {
				fs.Errorf(u.final, "failed to remove an upload interrupted while put in place: %v", err)
			}
		})
		if err != nil {
			u.cleanUp(false)
			return "", err
		}
		obj = placed
	}
	ctx, cancel := cleanupContext()
	defer cancel()
	info, _ := json.Marshal(map[string]any{"path": obj.Remote(), "size": obj.Size(), "mod_time": rfc3339(obj.ModTime(ctx))})
	u.claim.release(ctx)
	return string(info), nil
}

// abort makes the upload fail and removes whatever it wrote, within
// cleanupTimeout in all.
func (u *upload) abort() {
	_ = u.pw.CloseWithError(errAborted)
	u.cleanUp(true)
}

// cleanUp removes what the upload wrote (the object itself too if aborted
// after rclone finished it) and its claim, within cleanupTimeout in all.
func (u *upload) cleanUp(aborted bool) {
	ctx, cancel := cleanupContext()
	defer cancel()
	finished := false
	select {
	case <-u.done:
		finished = true
	case <-ctx.Done():
	}
	if !finished || u.err != nil {
		clearUnfinished(ctx, u.f, u.fsString, u.staging)
	}
	if aborted && finished && u.err == nil && u.obj != nil && u.staging == u.final {
		// Rcat finished before seeing the abort (the input had ended):
		// the object is complete but not wanted.
		if err := awaitErr(ctx, func() error { return u.obj.Remove(ctx) }); err != nil {
			fs.Errorf(u.final, "failed to remove aborted upload: %v", err)
		}
	}
	u.removeStaging(ctx)
	u.claim.release(ctx)
}

// removeStaging deletes the staging object if one is there.
func (u *upload) removeStaging(ctx context.Context) {
	if u.staging == u.final {
		return
	}
	err := awaitErr(ctx, func() error {
		obj, err := u.f.NewObject(ctx, u.staging)
		if err != nil {
			return nil // not there
		}
		return obj.Remove(ctx)
	})
	if err != nil {
		fs.Errorf(u.staging, "failed to remove partial upload: %v", err)
	}
}
