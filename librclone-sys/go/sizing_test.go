package main

import (
	"testing"

	"github.com/rclone/rclone/fs"
)

func TestSizedFsStringSetsS3ChunksUnlessTheUserDid(t *testing.T) {
	if err := initialise(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{":s3,provider=Other:bucket/p", ":s3,provider=Other,chunk_size=16777216B,max_upload_parts=1000:bucket/p"},
		{":s3,chunk_size=64Mi:bucket", ":s3,chunk_size=64Mi,max_upload_parts=1000:bucket"},
		{":s3,chunk_size=64Mi,max_upload_parts=50:bucket", ":s3,chunk_size=64Mi,max_upload_parts=50:bucket"},
		{":local:/tmp/x", ":local:/tmp/x"},
	} {
		got, err := sizedFsString(c.in, 16<<20, 1000)
		if err != nil || got != c.want {
			t.Errorf("sizedFsString(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	t.Setenv("RCLONE_S3_CHUNK_SIZE", "8Mi")
	got, err := sizedFsString(":s3:bucket", 16<<20, 0)
	if err != nil || got != ":s3:bucket" {
		t.Errorf("with RCLONE_S3_CHUNK_SIZE set: %q, %v", got, err)
	}
	t.Setenv("RCLONE_CONFIG_SIZED_TYPE", "s3")
	t.Setenv("RCLONE_CONFIG_SIZED_CHUNK_SIZE", "32Mi")
	got, err = sizedFsString("sized:bucket", 16<<20, 0)
	if err != nil || got != "sized:bucket" {
		t.Errorf("with RCLONE_CONFIG_SIZED_CHUNK_SIZE set: %q, %v", got, err)
	}
	if got, _ := sizedFsString(":s3:bucket", 0, 1000); got != ":s3:bucket" {
		t.Errorf("a zero chunk size changed the remote: %q", got)
	}
}

func TestSizedChunkSizeReadsAsBytes(t *testing.T) {
	var s fs.SizeSuffix
	if err := s.Set("16777216B"); err != nil || int64(s) != 16<<20 {
		t.Fatalf("16777216B read as %d, %v", s, err)
	}
}
