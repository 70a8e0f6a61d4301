package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/smithy-go"
	"github.com/rclone/rclone/backend/s3"
	"github.com/rclone/rclone/backend/sftp"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fspath"
	"github.com/rclone/rclone/lib/encoder"
)

// How an upload's object gets its final name without replacing one that
// is there, per backend:
//   - local disk: the finished staging file is hard-linked to the name
//     (link fails if the name exists) and then unlinked: one atomic step;
//   - SFTP: likewise with the server's hardlink extension (OpenSSH has it);
//     a server without it gets check-then-rename, guarded by the claim;
//   - S3: the object is written in place with If-None-Match: * on the
//     PutObject or CompleteMultipartUpload, so a store that honours it
//     refuses to replace an object; the claim guards stores that ignore it;
//   - other backends that show partial uploads (SMB, FTP, WebDAV, ...):
//     check-then-move, guarded by the claim;
//   - other object stores: written in place, guarded by the claim.

// conditionalContext returns ctx with the upload headers that make the
// backend refuse to replace an existing object, where it has them.
func conditionalContext(ctx context.Context, f fs.Fs) context.Context {
	if _, ok := f.(*s3.Fs); !ok {
		return ctx
	}
	ctx, ci := fs.AddConfig(ctx)
	headers := append([]*fs.HTTPOption{}, ci.UploadHeaders...)
	ci.UploadHeaders = append(headers, &fs.HTTPOption{Key: "If-None-Match", Value: "*"})
	return ctx
}

// refusedAsExisting tells whether err is a store's refusal of a
// conditional write because the object exists.
func refusedAsExisting(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "PreconditionFailed" || api.ErrorCode() == "ConditionalRequestConflict")
}

// place moves the finished staging object obj to the final name final,
// failing with an "exists" error rather than replacing an object there.
func place(ctx context.Context, f fs.Fs, fsString string, obj fs.Object, final string) (fs.Object, error) {
	switch {
	case f.Features().IsLocal:
		if placed, ok, err := placeLocal(ctx, f, obj, final); ok {
			return placed, err
		}
	default:
		if _, isSftp := f.(*sftp.Fs); isSftp {
			if placed, ok, err := placeByHardlink(ctx, f, fsString, obj, final); ok {
				return placed, err
			}
		}
	}
	// Check-then-move: the claim keeps other runs of dbbr away.
	if _, err := f.NewObject(ctx, final); err == nil {
		return nil, existsError(errors.New(final))
	}
	moved, err := f.Features().Move(ctx, obj, final)
	if err != nil {
		return nil, fmt.Errorf("failed to move the finished upload into place: %w", err)
	}
	return moved, nil
}

// placeLocal hard-links the staging file to the final name and unlinks it.
// ok is false when the files are not where they were expected (a custom
// encoding of names): the caller then moves it another way.
func placeLocal(ctx context.Context, f fs.Fs, obj fs.Object, final string) (fs.Object, bool, error) {
	native := func(remote string) string {
		root := encoder.OS.FromStandardPath(f.Root())
		return filepath.Join(root, filepath.FromSlash(encoder.OS.FromStandardPath(remote)))
	}
	from, to := native(obj.Remote()), native(final)
	if info, err := os.Lstat(from); err != nil || !info.Mode().IsRegular() || info.Size() != obj.Size() {
		fs.Debugf(obj, "staging file not found at %s: moving it through rclone", from)
		return nil, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o777); err != nil {
		return nil, true, err
	}
	if err := os.Link(from, to); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, true, existsError(errors.New(final))
		}
		return nil, true, fmt.Errorf("failed to link the finished upload into place: %w", err)
	}
	if err := os.Remove(from); err != nil {
		fs.Errorf(obj, "failed to remove the staging file: %v", err)
	}
	placed, err := f.NewObject(ctx, final)
	return placed, true, err
}

// placeByHardlink links the staging object to the final name with the
// SFTP server's hardlink extension, which refuses an existing name, then
// removes the staging object. ok is false when the server cannot link.
func placeByHardlink(ctx context.Context, f fs.Fs, fsString string, obj fs.Object, final string) (fs.Object, bool, error) {
	parsed, err := fspath.Parse(fsString)
	if err != nil {
		return nil, false, nil
	}
	linking, err := cachedFs(ctx, parsed.ConfigString+",copy_is_hardlink=true:"+parsed.Path)
	if err != nil || linking.Features().Copy == nil {
		return nil, false, nil
	}
	src, err := linking.NewObject(ctx, obj.Remote())
	if err != nil {
		return nil, true, err
	}
	placed, err := linking.Features().Copy(ctx, src, final)
	if errors.Is(err, fs.ErrorCantCopy) {
		fs.Debugf(obj, "the SFTP server cannot hard-link: renaming after a check")
		return nil, false, nil
	}
	if err != nil {
		if _, statErr := f.NewObject(ctx, final); statErr == nil {
			return nil, true, existsError(errors.New(final))
		}
		return nil, true, fmt.Errorf("failed to link the finished upload into place: %w", err)
	}
	if err := obj.Remove(ctx); err != nil {
		fs.Errorf(obj, "failed to remove the staging file: %v", err)
	}
	return placed, true, nil
}
