package main

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rclone/rclone/fs/config/obscure"
)

// stalledServer listens on loopback, accepts every connection and never
// answers: a storage server that stopped responding.
func stalledServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// freshBase gives the test a base context of its own, as if the process
// had just started, and puts the process's back afterwards.
func freshBase(t *testing.T) {
	oldBase, oldCancel := base, cancelBase
	base, cancelBase = newBase()
	t.Cleanup(func() {
		cancelBase()
		base, cancelBase = oldBase, oldCancel
	})
}

// interruptedWithin runs call, interrupts it after a moment and fails
// unless it returns an "interrupted" error within limit of the interrupt.
func interruptedWithin(t *testing.T, what string, limit time.Duration, call func() error) {
	t.Helper()
	freshBase(t)
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		t.Fatalf("%s returned before the interrupt: %v", what, err)
	case <-time.After(300 * time.Millisecond):
	}
	interrupt()
	start := time.Now()
	select {
	case err := <-done:
		if kindOf(err) != kindInterrupted {
			t.Errorf("%s: %v (kind %q), not interrupted", what, err, kindOf(err))
		}
		t.Logf("%s: returned %s after the interrupt", what, time.Since(start).Round(time.Millisecond))
	case <-time.After(limit):
		t.Errorf("%s still running %s after the interrupt", what, limit)
	}
}

func TestEveryCallReturnsAtOnceOnInterruptWhileTheServerStalls(t *testing.T) {
	if err := initialise(); err != nil {
		t.Fatal(err)
	}
	// Registered first, so run last, once the server is gone: the calls
	// given up on end (rclone retries them against the closed port) before
	// the next test, whose retries they would otherwise be counted with.
	t.Cleanup(func() {
		start := time.Now()
		if !drain(time.Minute) {
			t.Error("calls given up on still ran a minute after the server closed")
		}
		t.Logf("calls given up on ended %s after the server closed", time.Since(start).Round(time.Millisecond))
	})
	addr := stalledServer(t)
	host, port, _ := net.SplitHostPort(addr)
	remotes := map[string]string{
		// A path below the bucket: opening it HEADs and lists it.
		"s3": fmt.Sprintf(":s3,provider=Other,endpoint='http://%s',access_key_id=a,secret_access_key=b:bucket/prefix", addr),
		// The SSH handshake never completes.
		"sftp": fmt.Sprintf(":sftp,host=%s,port=%s,user=u,pass=%s,known_hosts_file=none:dir", host, port, obscure.MustObscure("p")),
		// Opening it sends a PROPFIND.
		"webdav": fmt.Sprintf(":webdav,url='http://%s/',vendor=other:dir", addr),
	}
	for name, remote := range remotes {
		calls := map[string]func() error{
			"list": func() error { _, err := listJSON(remote, "", false); return err },
			"stat": func() error { _, err := statJSON(remote, "x.gz"); return err },
			"download": func() error {
				h, err := startDownload(remote, "x.gz")
				closeDownload(h)
				return err
			},
			"upload": func() error {
				h, err := startUpload(remote, "x.gz")
				abortUpload(h)
				return err
			},
			"delete": func() error { return deleteObject(remote, "x.gz") },
		}
		for call, run := range calls {
			interruptedWithin(t, name+" "+call, 2*time.Second, run)
		}
	}
}

func TestDrainWaitsForTheUndoOfACallGivenUpOn(t *testing.T) {
	freshBase(t)
	// Calls other tests gave up on may still run: a count of this test's own.
	old := abandoned
	abandoned = new(sync.WaitGroup)
	t.Cleanup(func() { abandoned = old })
	release := make(chan struct{})
	undone := make(chan struct{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		interrupt()
	}()
	_, err := await(base, func() (int, error) {
		<-release
		return 1, nil
	}, func(int) { close(undone) })
	if err == nil {
		t.Fatal("await returned no error after the interrupt")
	}
	// The call still runs: drain gives up at its limit.
	if drain(50 * time.Millisecond) {
		t.Fatal("drain reported every call ended while one still ran")
	}
	// The call ends later, made something: drain returns once undo ran.
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(release)
	}()
	if !drain(5 * time.Second) {
		t.Fatal("drain did not see the call end")
	}
	select {
	case <-undone:
	default:
		t.Fatal("drain returned before undo ran")
	}
}
