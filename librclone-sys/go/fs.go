package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/cache"
	"github.com/rclone/rclone/fs/fspath"
)

// openFs initialises rclone and opens the remote (see getFs).
func openFs(fsString string) (context.Context, fs.Fs, error) {
	if err := initialise(); err != nil {
		return nil, nil, err
	}
	if base.Err() != nil {
		return nil, nil, base.Err()
	}
	f, err := getFs(base, fsString)
	return base, f, err
}

// onRemote opens the remote and runs call on it; both return as soon as
// interrupt is called (see await), undo releasing what a call given up on
// made.
func onRemote[T any](fsString string, call func(context.Context, fs.Fs) (T, error), undo func(T)) (T, error) {
	ctx, f, err := openFs(fsString)
	if err != nil {
		var zero T
		return zero, err
	}
	return await(ctx, func() (T, error) { return call(ctx, f) }, undo)
}

// getFs returns the (cached) Fs for a remote and directory such as
// "store:bucket/prefix" or ":sftp,host=example:/srv". Object paths are
// given relative to it. A remote whose configuration does not resolve is a
// configuration error; one that resolves but cannot be opened (a server
// that does not answer, wrong credentials) is not. It returns as soon as
// ctx ends.
func getFs(ctx context.Context, fsString string) (fs.Fs, error) {
	if err := checkConfig(fsString); err != nil {
		return nil, err
	}
	return await(ctx, func() (fs.Fs, error) {
		f, err := cache.GetFn(ctx, fsString, newFs)
		switch {
		case err == nil:
			return f, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, fs.ErrorIsFile):
			return nil, isFileError(ctx, fsString)
		case errors.Is(err, fs.ErrorNotFoundInConfigFile):
			return nil, err
		default:
			return nil, fmt.Errorf("cannot open remote: %w", err)
		}
	}, nil)
}

// cachedFs returns the (cached) Fs for fsString, as rclone's cache.Get
// does, but returns as soon as ctx ends.
func cachedFs(ctx context.Context, fsString string) (fs.Fs, error) {
	return await(ctx, func() (fs.Fs, error) { return cache.GetFn(ctx, fsString, newFs) }, nil)
}

// newFs opens a remote for rclone's cache of them. The Fs outlives the
// call, so, as in rclone's cache.Get, it keeps a context that carries
// ctx's configuration but that nothing cancels afterwards. Unlike there,
// ctx's end cancels that context while the remote is being opened, so
// that an interrupt stops the first requests (S3's HEAD and LIST of the
// path, an SSH handshake, WebDAV's PROPFIND) instead of leaving them to
// rclone's timeouts and retries, minutes by default. A remote whose
// opening was cancelled is not cached: nothing may use that context again.
func newFs(ctx context.Context, fsString string) (fs.Fs, error) {
	own, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	f, err := fs.NewFs(own, fsString)
	if !stop() {
		// The ending cancelled own: whatever was made is unusable.
		if s, ok := f.(fs.Shutdowner); ok {
			go func() { _ = s.Shutdown(context.Background()) }()
		}
		return nil, ctx.Err()
	}
	if err == nil || errors.Is(err, fs.ErrorIsFile) {
		// Some backends find out lazily, and without a lock, which hashes
		// they can check (SFTP runs md5sum and sha1sum on the server once):
		// uploads that start at once on a new Fs would see a half-made set
		// and fail with "hash type not supported". Asked here, before the
		// cache hands the Fs out, it is made once.
		_ = f.Hashes()
	}
	return f, err
}

// isFileError tells why rclone opened the parent of fsString's path
// instead: the path names a file (a configuration error), or, as S3 also
// answers when it can neither HEAD nor list the path (a server that does
// not answer, wrong credentials), the path could not be checked. The leaf
// is looked up once more in the parent, opened afresh with a single
// attempt per request (rclone has just spent its retries), to tell the two
// apart and report the real cause.
func isFileError(ctx context.Context, fsString string) error {
	isFile := configError(errors.New("the remote path names a file, not a directory"))
	parsed, err := fspath.Parse(fsString)
	if err != nil {
		return isFile
	}
	trimmed := strings.TrimSuffix(parsed.Path, "/")
	dir, leaf := path.Split(trimmed)
	once, ci := fs.AddConfig(ctx)
	ci.LowLevelRetries = 1
	parent, err := fs.NewFs(once, parsed.ConfigString+":"+dir)
	if err == nil {
		_, err = parent.NewObject(once, leaf)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, fs.ErrorObjectNotFound) {
		return fmt.Errorf("cannot open remote: %w", err)
	}
	return isFile
}

// checkConfig resolves a remote's backend and options without I/O.
func checkConfig(fsString string) error {
	if _, _, _, _, err := fs.ConfigFs(fsString); err != nil {
		if errors.Is(err, fs.ErrorNotFoundInConfigFile) {
			return err
		}
		return configError(err)
	}
	return nil
}

// checkRemote resolves the remote's backend and configuration without
// connecting to it: an unconfigured remote or unknown backend is an error.
func checkRemote(fsString string) error {
	if err := initialise(); err != nil {
		return err
	}
	return checkConfig(fsString)
}
