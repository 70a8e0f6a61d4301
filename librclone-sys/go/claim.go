package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path"
	"strings"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/operations"
)

// A claim is a small hidden object next to an upload's name, written before
// the upload starts and removed when it ends, that tells other runs the
// name is being written. A run proceeds only if, after writing its claim,
// it sees no other live claim for the name; otherwise it withdraws, waits
// a random while and tries again, for up to claimWait. With storage that lists what was written before (local disks,
// SFTP, S3 and its compatibles), two runs cannot both proceed: whichever
// lists second sees the other's claim. Both may fail, which is loud and
// safe. A live run rewrites its claim every claimRefresh; a claim not
// rewritten for claimStale is left by a killed run and is ignored and
// removed.
type claim struct {
	f    fs.Fs
	name string
	body string
	stop chan struct{}
	done chan struct{} // closed when refresh returns
}

// How long a run tries to claim a name others claim (a variable for tests).
var claimWait = 15 * time.Second

const (
	claimRefresh = 30 * time.Second
	claimStale   = 3 * time.Minute
	claimSuffix  = ".claim"
)

// takeClaim claims object p of f, or fails with a "busy" error when
// another run still holds a live claim on it after claimWait.
func takeClaim(ctx context.Context, f fs.Fs, p string) (*claim, error) {
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	host, _ := os.Hostname()
	body, _ := json.Marshal(map[string]any{"host": host, "pid": os.Getpid(), "object": p})
	c := &claim{f: f, name: claimName(p, hex.EncodeToString(id)), body: string(body), stop: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		if err := awaitErr(ctx, func() error { return c.write(ctx) }); err != nil {
			c.removeNow()
			return nil, fmt.Errorf("cannot write the claim on %s: %w", p, err)
		}
		other, err := await(ctx, func() (string, error) { return otherClaim(ctx, f, p, c.name) }, nil)
		if err == nil && other == "" {
			go c.refresh()
			return c, nil
		}
		c.removeNow()
		if err != nil {
			return nil, fmt.Errorf("cannot list the claims on %s: %w", p, err)
		}
		if time.Since(start) > claimWait {
			return nil, busyError(fmt.Errorf("%s (its claim: %s)", p, other))
		}
		// Runs that met stop meeting: each waits its own random while.
		wait := time.Duration(mrand.Int64N(int64(min(attempt, 4)) * int64(500*time.Millisecond)))
		fs.Debugf(p, "another run claims it (%s): trying again in %s", other, wait)
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
}

// claimName is the claim object of run id on p: ".LEAF.ID.claim" next to it.
func claimName(p, id string) string {
	dir, leaf := path.Split(p)
	return dir + "." + leaf + "." + id + claimSuffix
}

// isClaimOf tells whether name is a claim on p.
func isClaimOf(name, p string) bool {
	dir, leaf := path.Split(p)
	rest, ok := strings.CutPrefix(name, dir+"."+leaf+".")
	if !ok {
		return false
	}
	id, ok := strings.CutSuffix(rest, claimSuffix)
	if !ok || len(id) != 12 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// otherClaim returns the name of a live claim on p other than ours, or "".
// Stale claims are removed on the way.
func otherClaim(ctx context.Context, f fs.Fs, p, ours string) (string, error) {
	entries, err := listDirOf(ctx, f, p)
	if err != nil {
		return "", err
	}
	for _, entry := range entries {
		obj, ok := entry.(fs.Object)
		if !ok || obj.Remote() == ours || !isClaimOf(obj.Remote(), p) {
			continue
		}
		if age := time.Since(obj.ModTime(ctx)); age > claimStale {
			fs.Infof(obj.Remote(), "removing a claim not renewed for %s: its run was stopped", age.Round(time.Second))
			_ = obj.Remove(ctx)
			continue
		}
		return obj.Remote(), nil
	}
	return "", nil
}

// listed finds the claim object in its directory's listing: nil if it is
// not there.
func (c *claim) listed(ctx context.Context) (fs.Object, error) {
	entries, err := listDirOf(ctx, c.f, c.name)
	if err != nil {
		return nil, err
	}
	for _, entry := range entries {
		if obj, ok := entry.(fs.Object); ok && obj.Remote() == c.name {
			return obj, nil
		}
	}
	return nil, nil
}

// listDirOf lists the directory that object p is in.
func listDirOf(ctx context.Context, f fs.Fs, p string) (fs.DirEntries, error) {
	dir := path.Dir(p)
	if dir == "." {
		dir = ""
	}
	return f.List(ctx, dir)
}

// write (re)writes the claim object.
func (c *claim) write(ctx context.Context) error {
	_, err := operations.Rcat(ctx, c.f, c.name, io.NopCloser(strings.NewReader(c.body)), time.Now(), nil)
	return err
}

// refresh rewrites the claim until release.
func (c *claim) refresh() {
	defer close(c.done)
	tick := time.NewTicker(claimRefresh)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			err := awaitErr(base, func() error { return c.write(base) })
			if err != nil && !errors.Is(err, context.Canceled) {
				fs.Errorf(c.name, "failed to renew the claim: %v", err)
			}
		}
	}
}

// release stops renewing the claim and removes it, giving up when ctx
// ends.
func (c *claim) release(ctx context.Context) {
	close(c.stop)
	select {
	case <-c.done:
	case <-ctx.Done():
	}
	c.remove(ctx)
}

// releaseNow is release within cleanupTimeout.
func (c *claim) releaseNow() {
	ctx, cancel := cleanupContext()
	defer cancel()
	c.release(ctx)
}

// removeNow is remove within cleanupTimeout. After an interrupt the claim
// is removed once more a second later: a write of it that the interrupt
// cut off can still land after the first removal.
func (c *claim) removeNow() {
	ctx, cancel := cleanupContext()
	defer cancel()
	c.remove(ctx)
	if base.Err() != nil && sleep(ctx, time.Second) {
		c.remove(ctx)
	}
}

// remove deletes the claim object if it is there, giving up when ctx
// ends. A lookup that failed (rather than found nothing) is not taken for
// absence: the claim is then looked for in its directory's listing, which
// some servers answer when single-object reads (HEAD) fail.
func (c *claim) remove(ctx context.Context) {
	err := awaitErr(ctx, func() error {
		obj, err := c.f.NewObject(ctx, c.name)
		if errors.Is(err, fs.ErrorObjectNotFound) {
			return nil
		}
		if err != nil {
			if obj, err = c.listed(ctx); obj == nil || err != nil {
				return err
			}
		}
		return obj.Remove(ctx)
	})
	if err != nil {
		fs.Errorf(c.name, "failed to remove the claim: %v", err)
	}
}

// held are the claims the host holds on names it writes piece by piece (a
// set's folder, for as long as its run writes the parts and the manifest),
// by handle.
var held = newRegistry[*claim]()

// holdClaim claims p for the host until releaseHeld, renewing the claim
// meanwhile; a "busy" error when another run holds p.
func holdClaim(fsString, p string) (uint64, error) {
	if p == "" || strings.HasSuffix(p, "/") {
		return 0, configError(fmt.Errorf("claim path %q names nothing", p))
	}
	c, err := onRemote(fsString, func(ctx context.Context, f fs.Fs) (*claim, error) {
		return takeClaim(ctx, f, p)
	}, func(c *claim) { c.releaseNow() })
	if err != nil {
		return 0, err
	}
	return held.add(c), nil
}

// releaseHeld stops renewing the claim of handle h and removes it, within
// cleanupTimeout.
func releaseHeld(h uint64) {
	if c, ok := held.remove(h); ok {
		c.releaseNow()
	}
}
