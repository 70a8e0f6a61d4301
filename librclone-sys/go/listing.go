package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/operations"
)

// entry is what list and stat report of an object.
type entry struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime string `json:"mod_time"`
	IsDir   bool   `json:"is_dir"`
}

// listJSON lists dir of the remote as a JSON array of entries; a missing
// dir lists as [].
func listJSON(fsString, dir string, recurse bool) (string, error) {
	return onRemote(fsString, func(ctx context.Context, f fs.Fs) (string, error) {
		entries := []entry{}
		opt := &operations.ListJSONOpt{Recurse: recurse, NoMimeType: true}
		err := operations.ListJSON(ctx, f, dir, opt, func(item *operations.ListJSONItem) error {
			entries = append(entries, entry{Path: item.Path, Size: item.Size, ModTime: rfc3339(item.ModTime.When), IsDir: item.IsDir})
			return nil
		})
		if errors.Is(err, fs.ErrorDirNotFound) {
			err = nil
		}
		if err != nil {
			return "", err
		}
		out, err := json.Marshal(entries)
		return string(out), err
	}, nil)
}

// statJSON describes object p of the remote as a JSON entry.
func statJSON(fsString, p string) (string, error) {
	return onRemote(fsString, func(ctx context.Context, f fs.Fs) (string, error) {
		obj, err := f.NewObject(ctx, p)
		if err != nil {
			return "", err
		}
		out, err := json.Marshal(entry{Path: obj.Remote(), Size: obj.Size(), ModTime: rfc3339(obj.ModTime(ctx))})
		return string(out), err
	}, nil)
}

// rfc3339 formats a modification time for the Rust side ("" if unknown).
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// deleteObject removes object p of the remote.
func deleteObject(fsString, p string) error {
	_, err := onRemote(fsString, func(ctx context.Context, f fs.Fs) (struct{}, error) {
		obj, err := f.NewObject(ctx, p)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, obj.Remove(ctx)
	}, nil)
	return err
}

// deleteCommitted removes object p of the remote if it is still the one an
// upload committed: same size and modification time (rfc3339 form, as
// commit reported it). Another object there is left alone and reported;
// nothing there is not an error. Being clean-up, it runs even after
// interrupt, bounded by cleanupTimeout then.
func deleteCommitted(fsString, p string, size int64, modTime string) error {
	if err := initialise(); err != nil {
		return err
	}
	ctx := base
	if base.Err() != nil {
		cleanup, cancel := cleanupContext()
		defer cancel()
		ctx = cleanup
	}
	f, err := getFs(ctx, fsString)
	if err != nil {
		return err
	}
	return awaitErr(ctx, func() error {
		obj, err := f.NewObject(ctx, p)
		if errors.Is(err, fs.ErrorObjectNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		got := obj.ModTime(ctx)
		want, _ := time.Parse(time.RFC3339Nano, modTime)
		if obj.Size() != size || !got.Equal(want) {
			return fmt.Errorf("%s is not the object this run wrote (%d bytes of %s, not %d of %s), so it was left in place", p, obj.Size(), rfc3339(got), size, modTime)
		}
		return obj.Remove(ctx)
	})
}
