package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLeftoversAreNeverDeletedThroughALink(t *testing.T) {
	if err := initialise(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	outside := t.TempDir()
	victim := filepath.Join(outside, "app-2026-01-01T00-00-00Z.sql.gz")
	if err := os.WriteFile(victim, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(root, "app-2026-01-02T00-00-00Z.sql.gz")
	if err := os.WriteFile(own, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Followed by a listing with copy_links, the victim shows below the
	// root; deleting it as a leftover is refused.
	fsString := ":local,copy_links:" + root
	info, _ := os.Stat(victim)
	err := deleteLeftover(fsString, "linked/app-2026-01-01T00-00-00Z.sql.gz", 1, info.ModTime().UTC().Format(time.RFC3339Nano))
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("deleted through a link: %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file behind the link is gone: %v", err)
	}
	for _, bad := range []string{"../x", "a/../../x", "/abs"} {
		if err := deleteLeftover(fsString, bad, 1, ""); err == nil {
			t.Errorf("%s: not refused", bad)
		}
	}
	// A leftover that changed since the listing is left alone; one that
	// did not is removed.
	info, _ = os.Stat(own)
	if err := deleteLeftover(fsString, filepath.Base(own), 2, info.ModTime().UTC().Format(time.RFC3339Nano)); err == nil {
		t.Fatal("a changed object was deleted")
	}
	if err := deleteLeftover(fsString, filepath.Base(own), 1, info.ModTime().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Fatalf("the leftover is still there: %v", err)
	}
}
