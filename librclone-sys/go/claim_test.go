package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// uploadTo and hidden are in upload_test.go.

func TestALiveClaimKeepsOthersAway(t *testing.T) {
	defer func(w time.Duration) { claimWait = w }(claimWait)
	claimWait = 300 * time.Millisecond
	dir := t.TempDir()
	foreign := filepath.Join(dir, ".x.gz.0123456789ab.claim")
	if err := os.WriteFile(foreign, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := uploadTo(dir, "x.gz", []byte("data"), nil)
	if kindOf(err) != kindBusy {
		t.Fatalf("want a busy error, got %v", err)
	}
	if h := hidden(t, dir); len(h) != 1 || h[0] != filepath.Base(foreign) {
		t.Errorf("want only the foreign claim left, got %v", h)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.gz")); !os.IsNotExist(err) {
		t.Errorf("x.gz was written: %v", err)
	}
}

func TestAStaleClaimIsRemovedAndIgnored(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".x.gz.0123456789ab.claim")
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * claimStale)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	// A claim on another name that merely shares a prefix is not touched.
	other := filepath.Join(dir, ".x.gz.old.0123456789ab.claim")
	if err := os.WriteFile(other, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := uploadTo(dir, "x.gz", []byte("data"), nil); err != nil {
		t.Fatal(err)
	}
	if h := hidden(t, dir); len(h) != 1 || h[0] != filepath.Base(other) {
		t.Errorf("want only the other name's claim left, got %v", h)
	}
}

func TestAHeldClaimKeepsOthersAwayUntilReleased(t *testing.T) {
	defer func(w time.Duration) { claimWait = w }(claimWait)
	claimWait = 300 * time.Millisecond
	dir := t.TempDir()
	h, err := holdClaim(dir, "app.set")
	if err != nil {
		t.Fatal(err)
	}
	if got := hidden(t, dir); len(got) != 1 || !isClaimOf(got[0], "app.set") {
		t.Fatalf("want one claim on app.set, got %v", got)
	}
	if _, err := holdClaim(dir, "app.set"); kindOf(err) != kindBusy {
		t.Fatalf("want a busy error for a second hold, got %v", err)
	}
	releaseHeld(h)
	if got := hidden(t, dir); len(got) != 0 {
		t.Errorf("want no claim left, got %v", got)
	}
	h, err = holdClaim(dir, "app.set")
	if err != nil {
		t.Fatalf("a released name is free again: %v", err)
	}
	releaseHeld(h)
}
