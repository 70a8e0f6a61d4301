package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/cache"
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

// getFs returns the (cached) Fs for a remote and directory such as
// "store:bucket/prefix" or ":sftp,host=example:/srv". Object paths are
// given relative to it. A remote whose configuration does not resolve is a
// configuration error; one that resolves but cannot be opened (a server
// that does not answer, wrong credentials) is not.
func getFs(ctx context.Context, fsString string) (fs.Fs, error) {
	if err := checkConfig(fsString); err != nil {
		return nil, err
	}
	f, err := cache.Get(ctx, fsString)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, fs.ErrorIsFile):
		return nil, configError(errors.New("the remote path names a file, not a directory"))
	case errors.Is(err, fs.ErrorNotFoundInConfigFile):
		return nil, err
	default:
		return nil, fmt.Errorf("cannot open remote: %w", err)
	}
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
