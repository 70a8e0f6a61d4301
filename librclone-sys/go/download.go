package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/operations"
)

// download reads one object, reopening it on errors as rclone does and
// checking its hash at the end where the backend has one.
type download struct {
	obj    fs.Object
	in     io.ReadCloser
	hasher *hash.MultiHasher
	hashTy hash.Type
	buf    []byte // what a read fills before it is copied to the host's buffer
}

var downloads = newRegistry[*download]()

// startDownload opens object p of the remote for reading.
func startDownload(fsString, p string) (uint64, error) {
	d, err := onRemote(fsString, func(ctx context.Context, f fs.Fs) (*download, error) {
		obj, err := f.NewObject(ctx, p)
		if err != nil {
			return nil, err
		}
		ci := fs.GetConfig(ctx)
		in, err := operations.NewReOpen(ctx, obj, ci.LowLevelRetries)
		if err != nil {
			return nil, err
		}
		d := &download{obj: obj, in: in, hashTy: hash.None}
		if ht := f.Hashes().GetOne(); ht != hash.None && !ci.IgnoreChecksum {
			if mh, err := hash.NewMultiHasherTypes(hash.NewHashSet(ht)); err == nil {
				d.hasher, d.hashTy = mh, ht
			}
		}
		return d, nil
	}, func(d *download) { _ = d.in.Close() })
	if err != nil {
		return 0, err
	}
	return downloads.add(d), nil
}

// readDownload fills buf from download h (see read).
func readDownload(h uint64, buf []byte) (int, error) {
	d, ok := downloads.get(h)
	if !ok {
		return 0, errBadHandle
	}
	return d.readFor(buf)
}

// closeDownload releases download h; an unknown handle is ignored. After
// an interrupt, a read given up on may still hold the object: it is then
// closed in the background.
func closeDownload(h uint64) {
	if d, ok := downloads.remove(h); ok {
		if base.Err() != nil {
			go func() { _ = d.in.Close() }()
			return
		}
		_ = d.in.Close()
	}
}

// readFor fills the host's buf (see read), returning at once on interrupt:
// the read goes into the download's own buffer, which a read given up on
// may still fill, and is copied to buf only when it finished.
func (d *download) readFor(buf []byte) (int, error) {
	if len(d.buf) < len(buf) {
		d.buf = make([]byte, len(buf))
	}
	own := d.buf[:len(buf)]
	n, err := await(base, func() (int, error) { return d.read(own) }, nil)
	copy(buf, own[:n])
	return n, err
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

// verify compares the hash of what was read with the stored one.
func (d *download) verify() error {
	if d.hasher == nil {
		return nil
	}
	want, err := d.obj.Hash(base, d.hashTy)
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
