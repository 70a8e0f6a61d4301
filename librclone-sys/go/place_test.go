package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/operations"
)

// openRemote opens fsString as the upload functions do.
func openRemote(t *testing.T, fsString string) fs.Fs {
	t.Helper()
	if err := initialise(); err != nil {
		t.Fatal(err)
	}
	f, err := getFs(context.Background(), fsString)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// put writes data to name of f, as a finished upload or another tool does.
func put(t *testing.T, ctx context.Context, f fs.Fs, name, data string) fs.Object {
	t.Helper()
	obj, err := operations.Rcat(ctx, f, name, io.NopCloser(strings.NewReader(data)), time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// contents reads name of f; "" if it is not there.
func contents(t *testing.T, f fs.Fs, name string) string {
	t.Helper()
	ctx := context.Background()
	obj, err := f.NewObject(ctx, name)
	if err != nil {
		return ""
	}
	in, err := obj.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	data, err := io.ReadAll(in)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// localRoutes are the two ways place puts a staging file in place on a
// local disk: by a hard link, or, when the file is not where the OS's
// encoding of its name puts it, by a move after a check. onDisk is the
// final name as the disk holds it.
var localRoutes = []struct {
	name, options, final, onDisk string
}{
	{"hard link", "", "db/x.gz", "db/x.gz"},
	// The remote encodes "?" (as "？") and the OS's encoding does not.
	{"move after a check", ",encoding='Slash,Dot,Question'", "db/x?.gz", "db/x？.gz"},
}

func TestPlacePutsTheStagingFileUnderItsName(t *testing.T) {
	for _, route := range localRoutes {
		t.Run(route.name, func(t *testing.T) {
			dir := t.TempDir()
			fsString := ":local" + route.options + ":" + dir
			f := openRemote(t, fsString)
			ctx := context.Background()
			staging := stagingName(route.final)
			obj := put(t, ctx, f, staging, "ours")
			placed, err := place(ctx, f, fsString, obj, route.final)
			if err != nil {
				t.Fatal(err)
			}
			if placed.Remote() != route.final || placed.Size() != 4 {
				t.Errorf("placed %q of %d bytes, want %q of 4", placed.Remote(), placed.Size(), route.final)
			}
			if got, err := os.ReadFile(filepath.Join(dir, route.onDisk)); err != nil || string(got) != "ours" {
				t.Errorf("%s holds %q (%v), want %q", route.onDisk, got, err, "ours")
			}
			if got := contents(t, f, staging); got != "" {
				t.Errorf("the staging file is still there, holding %q", got)
			}
		})
	}
}

func TestPlaceRefusesToReplaceAnObject(t *testing.T) {
	for _, route := range localRoutes {
		t.Run(route.name, func(t *testing.T) {
			dir := t.TempDir()
			fsString := ":local" + route.options + ":" + dir
			f := openRemote(t, fsString)
			ctx := context.Background()
			put(t, ctx, f, route.final, "theirs")
			staging := stagingName(route.final)
			obj := put(t, ctx, f, staging, "ours")
			_, err := place(ctx, f, fsString, obj, route.final)
			if kindOf(err) != kindExists {
				t.Fatalf("want kind %q, got %q: %v", kindExists, kindOf(err), err)
			}
			if got, err := os.ReadFile(filepath.Join(dir, route.onDisk)); err != nil || string(got) != "theirs" {
				t.Errorf("%s holds %q (%v): the other object was replaced", route.onDisk, got, err)
			}
			// The staging file is the caller's to remove.
			if got := contents(t, f, staging); got != "ours" {
				t.Errorf("the staging file holds %q, want %q", got, "ours")
			}
		})
	}
}

// TestS3RefusesToReplaceAnObjectWrittenDuringTheUpload writes the name
// (without a claim, as another tool would) while an upload to an S3 store
// that honours If-None-Match runs: the upload's commit must fail as
// "exists" and leave the other object. Both of rclone's ways to write an
// object are covered: one PutObject for a short stream, a multipart
// upload for one longer than its streaming cut-off.
func TestS3RefusesToReplaceAnObjectWrittenDuringTheUpload(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
	}{
		{"PutObject", 1000},
		{"multipart upload", 3 * int(fs.GetConfig(context.Background()).StreamingUploadCutoff)},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, remote := s3Server(t)
			f := openRemote(t, remote)
			ours := bytes.Repeat([]byte("o"), c.size)
			h, err := startUpload(remote, "db/x.gz")
			if err != nil {
				t.Fatal(err)
			}
			if err := writeUpload(h, ours); err != nil {
				abortUpload(h)
				t.Fatal(err)
			}
			put(t, context.Background(), f, "db/x.gz", "theirs")
			_, err = commitUpload(h)
			if kindOf(err) != kindExists {
				t.Fatalf("commit: want kind %q, got %q: %v", kindExists, kindOf(err), err)
			}
			if got := contents(t, f, "db/x.gz"); got != "theirs" {
				t.Errorf("db/x.gz holds %d bytes, not the other object's: it was replaced", len(got))
			}
			if h := hidden(t, filepath.Join(dir, "bucket", "db")); len(h) != 0 {
				t.Errorf("left behind: %v", h)
			}
		})
	}
}
