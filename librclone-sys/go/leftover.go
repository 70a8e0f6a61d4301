package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/rclone/rclone/fs"
)

// deleteLeftover removes object p of the remote, a leftover of an earlier
// run, if it is still the object a listing showed (size and mod_time, as
// in deleteCommitted), and never through a symbolic link: on a local disk,
// a p reached through a link below the remote's root (one a listing can
// follow with --copy-links) is refused, and so is a p that is a link or
// climbs out of the root. Unlike clean-up after a failure, it is stopped
// by an interrupt.
func deleteLeftover(fsString, p string, size int64, modTime string) error {
	ctx, f, err := openFs(fsString)
	if err != nil {
		return err
	}
	if err := throughLink(f, p); err != nil {
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
			return fmt.Errorf("%s changed since it was listed (%d bytes of %s, not %d of %s), so it was left in place", p, obj.Size(), rfc3339(got), size, modTime)
		}
		return obj.Remove(ctx)
	})
}

// throughLink fails when object p of f is outside f's root or, on a local
// disk, reached through (or is) a symbolic link below the root.
func throughLink(f fs.Fs, p string) error {
	clean := path.Clean("/" + p)
	if clean != "/"+p || strings.Contains(p, "\\") {
		return fmt.Errorf("%s is not a plain path inside the remote: left in place", p)
	}
	if !f.Features().IsLocal {
		return nil
	}
	dir := f.Root()
	for _, part := range strings.Split(p, "/") {
		dir = filepath.Join(dir, part)
		info, err := os.Lstat(dir)
		if err != nil {
			return nil // gone: nothing to delete through
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s is reached through the symbolic link %s: left in place", p, dir)
		}
	}
	return nil
}
