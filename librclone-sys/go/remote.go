package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/cache"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/operations"
)

// openFs initialises rclone and opens the remote (see getFs).
func openFs(fsString string) (context.Context, fs.Fs, error) {
	if err := initialise(); err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	f, err := getFs(ctx, fsString)
	return ctx, f, err
}

// getFs returns the (cached) Fs for a remote and directory such as
// "store:bucket/prefix" or ":sftp,host=example:/srv". Object paths are
// given relative to it.
func getFs(ctx context.Context, fsString string) (fs.Fs, error) {
	f, err := cache.Get(ctx, fsString)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, fs.ErrorIsFile):
		return nil, configError(errors.New("the remote path or UPLOAD_PREFIX names a file, not a directory"))
	case errors.Is(err, fs.ErrorNotFoundInConfigFile):
		return nil, err
	default:
		return nil, configError(fmt.Errorf("cannot open remote: %w", err))
	}
}

// download reads one object, reopening it on errors as rclone does and
// checking its hash at the end where the backend has one.
type download struct {
	obj    fs.Object
	in     io.ReadCloser
	hasher *hash.MultiHasher
	hashTy hash.Type
}

var downloads = newRegistry[*download]()

func startDownload(fsString, p string) (uint64, error) {
	ctx, f, err := openFs(fsString)
	if err != nil {
		return 0, err
	}
	obj, err := f.NewObject(ctx, p)
	if err != nil {
		return 0, err
	}
	ci := fs.GetConfig(ctx)
	in, err := operations.NewReOpen(ctx, obj, ci.LowLevelRetries)
	if err != nil {
		return 0, err
	}
	d := &download{obj: obj, in: in, hashTy: hash.None}
	if ht := f.Hashes().GetOne(); ht != hash.None && !ci.IgnoreChecksum {
		if mh, err := hash.NewMultiHasherTypes(hash.NewHashSet(ht)); err == nil {
			d.hasher, d.hashTy = mh, ht
		}
	}
	return downloads.add(d), nil
}

// read fills buf; it returns 0 with nil error at the verified end.
func (d *download) read(buf []byte) (int, error) {
	n, err := d.in.Read(buf)
	if n > 0 && d.hasher != nil {
		_, _ = d.hasher.Write(buf[:n])
	}
	if errors.Is(err, io.EOF) {
		if n > 0 {
			return n, nil
		}
		return 0, d.verify()
	}
	return n, err
}

func (d *download) verify() error {
	if d.hasher == nil {
		return nil
	}
	want, err := d.obj.Hash(context.Background(), d.hashTy)
	if err != nil || want == "" {
		return nil // the backend cannot tell: nothing to compare
	}
	got := d.hasher.Sums()[d.hashTy]
	if got != want {
		return fmt.Errorf("%s hash mismatch for %q: read %s, stored %s", d.hashTy, d.obj.Remote(), got, want)
	}
	d.hasher = nil
	return nil
}

// entry is what list and stat report of an object.
type entry struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime string `json:"mod_time"`
	IsDir   bool   `json:"is_dir"`
}

func listJSON(fsString, dir string, recurse bool) (string, error) {
	ctx, f, err := openFs(fsString)
	if err != nil {
		return "", err
	}
	entries := []entry{}
	opt := &operations.ListJSONOpt{Recurse: recurse, NoMimeType: true}
	err = operations.ListJSON(ctx, f, dir, opt, func(item *operations.ListJSONItem) error {
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
}

func statJSON(fsString, p string) (string, error) {
	ctx, f, err := openFs(fsString)
	if err != nil {
		return "", err
	}
	obj, err := f.NewObject(ctx, p)
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(entry{Path: obj.Remote(), Size: obj.Size(), ModTime: rfc3339(obj.ModTime(ctx))})
	return string(out), err
}

// rfc3339 formats a modification time for the Rust side ("" if unknown).
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func deleteObject(fsString, p string) error {
	ctx, f, err := openFs(fsString)
	if err != nil {
		return err
	}
	obj, err := f.NewObject(ctx, p)
	if err != nil {
		return err
	}
	return obj.Remove(ctx)
}

// checkRemote resolves the remote's backend and configuration without
// connecting to it: an unconfigured remote or unknown backend is an error.
func checkRemote(fsString string) error {
	if err := initialise(); err != nil {
		return err
	}
	if _, _, _, _, err := fs.ConfigFs(fsString); err != nil {
		if errors.Is(err, fs.ErrorNotFoundInConfigFile) {
			return err
		}
		return configError(err)
	}
	return nil
}
