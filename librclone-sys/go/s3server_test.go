package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/rclone/rclone/cmd/serve/s3" // the "s3" type of serve/start
	"github.com/rclone/rclone/fs/rc"
)

// s3Server starts rclone's S3 server on loopback, serving a new local
// directory whose subdirectory "bucket" is the bucket, and returns that
// directory and a remote for the bucket. The server checks a request's
// If-None-Match and keeps unfinished multipart uploads as temporary files
// in the directory, as a store does on its disks. It lets anyone in:
// the client's keys are not checked.
func s3Server(t *testing.T) (dir, remote string) {
	t.Helper()
	if err := initialise(); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bucket"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := rc.Calls.Get("serve/start").Fn(ctx, rc.Params{
		"type": "s3",
		"fs":   dir,
		"addr": "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := rc.Calls.Get("serve/stop").Fn(ctx, rc.Params{"id": out["id"]}); err != nil {
			t.Errorf("stopping the S3 server: %v", err)
		}
	})
	remote = fmt.Sprintf(":s3,provider=Rclone,endpoint='http://%s',access_key_id=id,secret_access_key=secret:bucket", out["addr"])
	return dir, remote
}
