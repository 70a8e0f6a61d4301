package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	fslog "github.com/rclone/rclone/fs/log"
)

// hostLines is a host logger that keeps the lines it is given.
type hostLines struct {
	mu    sync.Mutex
	lines []string
	debug int // how many of them are at debug level
}

func (h *hostLines) log(level slog.Level, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines = append(h.lines, text)
	if level == slog.LevelDebug {
		h.debug++
	}
}

// forget drops the lines kept so far.
func (h *hostLines) forget() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lines, h.debug = nil, 0
}

// with returns the lines that hold s.
func (h *hostLines) with(s string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, line := range h.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// countInto sets rclone's logging up as DbbrSetLogger and DbbrInit do (see
// countRetries) for a user who asked for lines at level, with host as the
// host's logger, and puts the process's logging back afterwards.
func countInto(t *testing.T, level fs.LogLevel, host *hostLines) {
	t.Helper()
	ci := fs.GetConfig(context.Background())
	oldHost, oldUser, oldLevel := hostLogger, userLevel, ci.LogLevel
	oldHandlerLevel := fslog.Handler.SetLevel(fs.LogLevelToSlog(ci.LogLevel))
	t.Cleanup(func() {
		fs.SetLogger(fslog.Handler) // without retryCounter
		fslog.Handler.ResetOutput() // userLogger
		fslog.Handler.ResetOutput() // host.log
		fslog.Handler.SetLevel(oldHandlerLevel)
		hostLogger, userLevel, ci.LogLevel = oldHost, oldUser, oldLevel
	})
	ci.LogLevel = level
	setHostLogger(host.log)
	countRetries()
}

// failingOnce is a WebDAV server on loopback that answers its first
// request with 500 (which rclone retries) and every later one with 404.
func failingOnce(t *testing.T) string {
	t.Helper()
	var failed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failed.CompareAndSwap(false, true) {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return ":webdav,url='" + srv.URL + "/',vendor=other:"
}

// quiet waits until no low-level retry has been counted for a second: a
// call an earlier test gave up on can still be retrying in the background
// against a server that is gone, and the count is the process's.
func quiet(t *testing.T) {
	t.Helper()
	last, since := lowLevelRetries.Load(), time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if n := lowLevelRetries.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= time.Second {
			return
		}
	}
	t.Fatal("low-level retries were still being counted after 30 s")
}

// logIn makes rclone write its lines in format (as RCLONE_LOG_FORMAT
// would), until the test ends.
func logIn(t *testing.T, format string) {
	t.Helper()
	old := fslog.Opt.Format
	t.Cleanup(func() {
		fslog.Opt.Format = old
		initLogging()
	})
	if err := fslog.Opt.Format.Set(format); err != nil {
		t.Fatal(err)
	}
	initLogging()
}

// TestARetryIsCountedFromRclonesRecord drives one real low-level retry and
// checks that it is counted once. rclone has no counter of these retries:
// lowLevelRetries counts the log records that read as one (retryObject,
// retryMessage), so an rclone that announces them differently must fail
// here rather than count nothing.
func TestARetryIsCountedFromRclonesRecord(t *testing.T) {
	if err := initialise(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		level  fs.LogLevel
		format string
		// shown: what the line of the retry holds, as the host gets it;
		// nil if the host does not get it.
		shown []string
	}{
		{"text lines, the user asked for debug", fs.LogLevelDebug, "date,time",
			[]string{"DEBUG : " + retryObject + ": " + retryMessage + "1/", "500"}},
		{"text lines, the user did not ask for debug", fs.LogLevelNotice, "date,time", nil},
		{"JSON lines, the user asked for debug", fs.LogLevelDebug, "json",
			[]string{`"msg":"` + retryMessage + "1/", `"object":"` + retryObject + `"`, "500"}},
		{"JSON lines, the user did not ask for debug", fs.LogLevelNotice, "json", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			logIn(t, c.format)
			host := &hostLines{}
			countInto(t, c.level, host)
			remote := failingOnce(t)
			quiet(t)
			host.forget()
			before := lowLevelRetries.Load()
			// One PROPFIND answered 500, retried, then answered 404.
			_, err := statJSON(remote, "x.gz")
			if kindOf(err) != kindNotFound {
				t.Fatalf("stat: want kind %q after the retry, got %q: %v", kindNotFound, kindOf(err), err)
			}
			if got := lowLevelRetries.Load() - before; got != 1 {
				t.Errorf("counted %d retries, want 1; rclone's lines: %q", got, host.lines)
			}
			shown := host.with(retryMessage)
			if c.shown == nil {
				if len(shown) != 0 || host.debug != 0 {
					t.Errorf("debug lines reached a host that did not ask for them: %q", host.lines)
				}
				return
			}
			if len(shown) != 1 {
				t.Fatalf("want one line holding %q, got %q; all lines: %q", retryMessage, shown, host.lines)
			}
			for _, want := range c.shown {
				if !strings.Contains(shown[0], want) {
					t.Errorf("the retry line %q does not hold %q", shown[0], want)
				}
			}
		})
	}
}
