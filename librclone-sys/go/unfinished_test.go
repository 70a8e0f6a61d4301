package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
)

// The S3 half of clearUnfinished runs against rclone's S3 server over a
// temp dir (s3Server). The Azure half is not tested here: it needs an
// Azure Blob server, which these tests do not start.

// unfinished lists the keys of the bucket's unfinished multipart uploads.
func unfinished(t *testing.T, f fs.Fs) []string {
	t.Helper()
	listed, err := f.Features().Command(context.Background(), "list-multipart-uploads", nil, nil)
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload" {
		// The test server's answer for a bucket without uploads.
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, list := range listed.(map[string][]types.MultipartUpload) {
		for _, u := range list {
			keys = append(keys, *u.Key)
		}
	}
	slices.Sort(keys)
	return keys
}

// leaveUnfinished starts a multipart upload of name, sends its first part
// and leaves it, as an upload whose abort an interrupt cut off does.
func leaveUnfinished(t *testing.T, f fs.Fs, name string) {
	t.Helper()
	ctx := context.Background()
	info := object.NewStaticObjectInfo(name, time.Now(), -1, true, nil, f)
	_, writer, err := f.Features().OpenChunkWriter(ctx, name, info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.WriteChunk(ctx, 0, bytes.NewReader(make([]byte, 1024))); err != nil {
		t.Fatal(err)
	}
}

// filesBelow lists the files below dir, as paths relative to it.
func filesBelow(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestClearUnfinishedAbortsOnlyTheUploadOfItsNameAfterAnInterrupt(t *testing.T) {
	_, remote := s3Server(t)
	f := openRemote(t, remote)
	freshBase(t)
	leaveUnfinished(t, f, "db/x.gz")
	leaveUnfinished(t, f, "db/y.gz")
	if got := unfinished(t, f); !slices.Equal(got, []string{"db/x.gz", "db/y.gz"}) {
		t.Fatalf("the server holds the unfinished uploads of %q, want db/x.gz and db/y.gz", got)
	}

	// Not interrupted: rclone's own abort ran, nothing more is done.
	ctx, cancel := cleanupContext()
	defer cancel()
	clearUnfinished(ctx, f, remote, "db/x.gz")
	if got := unfinished(t, f); len(got) != 2 {
		t.Fatalf("cleared without an interrupt: %q left", got)
	}

	interrupt()
	clearUnfinished(ctx, f, remote, "db/x.gz")
	if got := unfinished(t, f); !slices.Equal(got, []string{"db/y.gz"}) {
		t.Errorf("unfinished uploads left: %q, want only db/y.gz's", got)
	}
}

func TestClearUnfinishedLeavesAloneUploadsOfANameStartingWithItsOwn(t *testing.T) {
	_, remote := s3Server(t)
	f := openRemote(t, remote)
	leaveUnfinished(t, f, "db/x.gz")
	leaveUnfinished(t, f, "db/x.gz.old")
	freshBase(t)
	interrupt()
	ctx, cancel := cleanupContext()
	defer cancel()
	// rclone's clean-up of the key would abort both: none is aborted.
	clearUnfinished(ctx, f, remote, "db/x.gz")
	if got := unfinished(t, f); !slices.Equal(got, []string{"db/x.gz", "db/x.gz.old"}) {
		t.Errorf("unfinished uploads left: %q, want both", got)
	}
}

func TestClearUnfinishedGivesUpWhenItsContextEnds(t *testing.T) {
	_, remote := s3Server(t)
	f := openRemote(t, remote)
	leaveUnfinished(t, f, "db/x.gz")
	freshBase(t)
	interrupt()
	ctx, cancel := context.WithTimeout(context.Background(), lateBlockWait/10)
	defer cancel()
	start := time.Now()
	clearUnfinished(ctx, f, remote, "db/x.gz")
	if took := time.Since(start); took > lateBlockWait/2 {
		t.Errorf("returned %s after its context ended", took-lateBlockWait/10)
	}
	if got := unfinished(t, f); len(got) != 1 {
		t.Errorf("unfinished uploads left: %q, want the one it gave up on", got)
	}
}

// TestAnInterruptedS3UploadLeavesNothingBehind interrupts a multipart
// upload under way and aborts it: whichever of rclone's own abort and
// clearUnfinished ends the upload on the server, nothing may be left of
// it there, neither the unfinished upload, nor a part, nor the claim.
func TestAnInterruptedS3UploadLeavesNothingBehind(t *testing.T) {
	dir, remote := s3Server(t)
	f := openRemote(t, remote)
	freshBase(t)
	h, err := startUpload(remote, "db/x.gz")
	if err != nil {
		t.Fatal(err)
	}
	// More than rclone buffers before it streams in parts.
	data := make([]byte, 3*fs.GetConfig(context.Background()).StreamingUploadCutoff)
	if err := writeUpload(h, data); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(unfinished(t, f)) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the multipart upload did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	interrupt()
	abortUpload(h)
	if got := unfinished(t, f); len(got) != 0 {
		t.Errorf("unfinished uploads left: %q", got)
	}
	if got := filesBelow(t, filepath.Join(dir, "bucket")); len(got) != 0 {
		t.Errorf("left on the server's disk: %q", got)
	}
}
