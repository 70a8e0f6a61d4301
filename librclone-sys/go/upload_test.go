package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// upload writes data to name below dir through the upload API.
func uploadTo(dir, name string, data []byte, beforeCommit func()) error {
	h, err := startUpload(":local:"+dir, name)
	if err != nil {
		return err
	}
	if err := writeUpload(h, data); err != nil {
		abortUpload(h)
		return err
	}
	if beforeCommit != nil {
		beforeCommit()
	}
	_, err = commitUpload(h)
	return err
}

// hidden lists the hidden files (claims, staging files) below dir.
func hidden(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestConcurrentUploadsOfOneNameNeverReplaceEachOther(t *testing.T) {
	dir := t.TempDir()
	const runs = 12
	var wg sync.WaitGroup
	errs := make([]error, runs)
	data := make([][]byte, runs)
	for i := range runs {
		data[i] = bytes.Repeat([]byte(fmt.Sprintf("run %d\n", i)), 50000)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = uploadTo(dir, "x.gz", data[i], func() { time.Sleep(200 * time.Millisecond) })
		}()
	}
	wg.Wait()
	got, err := os.ReadFile(filepath.Join(dir, "x.gz"))
	if err != nil {
		t.Fatal(err)
	}
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if !bytes.Equal(got, data[i]) {
				t.Errorf("run %d succeeded but x.gz holds another run's data", i)
			}
		case kindOf(err) != kindExists && kindOf(err) != kindBusy:
			t.Errorf("run %d: unexpected failure %v", i, err)
		}
	}
	if won > 1 {
		t.Errorf("%d runs succeeded at one name", won)
	}
	if h := hidden(t, dir); len(h) != 0 {
		t.Errorf("left behind: %v", h)
	}
}

func TestCommitRefusesAnObjectWrittenMeanwhile(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "x.gz")
	err := uploadTo(dir, "x.gz", []byte("ours"), func() {
		// Someone that does not claim (another tool) writes the name.
		if err := os.WriteFile(final, []byte("theirs"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if kindOf(err) != kindExists {
		t.Fatalf("want an exists error, got %v", err)
	}
	if got, _ := os.ReadFile(final); string(got) != "theirs" {
		t.Errorf("the other object was replaced: %q", got)
	}
	if h := hidden(t, dir); len(h) != 0 {
		t.Errorf("left behind: %v", h)
	}
}

func TestInterruptStopsStorageCalls(t *testing.T) {
	// Last: interrupt cannot be undone in this process.
	defer func() { base, cancelBase = newBase() }()
	dir := t.TempDir()
	h, err := startUpload(":local:"+dir, "x.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeUpload(h, []byte("data")); err != nil {
		t.Fatal(err)
	}
	interrupt()
	if _, err := commitUpload(h); kindOf(err) != kindInterrupted {
		t.Errorf("commit after interrupt: want kind interrupted, got %v", err)
	}
	if _, err := startUpload(":local:"+dir, "y.gz"); kindOf(err) != kindInterrupted {
		t.Errorf("upload after interrupt: want kind interrupted, got %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
