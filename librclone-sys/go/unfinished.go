package main

import (
	"context"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rclone/rclone/backend/azureblob"
	"github.com/rclone/rclone/backend/s3"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fspath"
	"github.com/rclone/rclone/fs/object"
)

// clearUnfinished discards what an interrupted upload of remote left on
// the server where rclone's own abort cannot. rclone aborts a failed
// multipart upload with the upload's context, which an interrupt has
// cancelled by then, and a part or block whose request the interrupt cut
// off may still be stored by the server after the abort (S3 documents
// that an abort may have to be repeated for this reason):
//   - Azure Blob: the blocks stay uncommitted (invisible to a normal
//     listing, kept and billed for a week). rclone's chunk writer for the
//     same name clears them (it commits an empty block list and deletes the
//     empty blob, or keeps a committed blob as it is); done twice, a moment
//     apart.
//   - S3: a late part brings the upload back. A moment later, the
//     unfinished uploads of exactly this key are aborted.
//
// The claim keeps other dbbr runs away from the name meanwhile.
//
// It gives up when ctx ends.
func clearUnfinished(ctx context.Context, f fs.Fs, fsString, remote string) {
	if base.Err() == nil {
		return // not interrupted: rclone's abort ran
	}
	_ = awaitErr(ctx, func() error {
		switch f.(type) {
		case *azureblob.Fs:
			clearAzureBlocks(ctx, f, remote)
		case *s3.Fs:
			if sleep(ctx, lateBlockWait) {
				abortS3Uploads(ctx, fsString, remote)
			}
		}
		return nil
	})
}

// lateBlockWait is how long the server is given to store a part or block
// whose request was cut off before clearing again.
const lateBlockWait = time.Second

func clearAzureBlocks(ctx context.Context, f fs.Fs, remote string) {
	for pass := 0; pass < 2; pass++ {
		if pass > 0 && !sleep(ctx, lateBlockWait) {
			return
		}
		info := object.NewStaticObjectInfo(remote, time.Now(), 0, true, nil, f)
		_, writer, err := f.Features().OpenChunkWriter(ctx, remote, info)
		if err == nil {
			err = writer.Abort(ctx)
		}
		if err != nil {
			fs.Errorf(remote, "failed to clear the uncommitted blocks of an aborted upload: %v", err)
			return
		}
	}
}

// abortS3Uploads aborts the unfinished multipart uploads of the key of
// remote, through rclone's "cleanup" command on the key itself (which
// aborts every upload whose key starts with it): only if every upload
// listed there is of exactly this key, so that no other name's upload is
// touched.
func abortS3Uploads(ctx context.Context, fsString, remote string) {
	parsed, err := fspath.Parse(fsString)
	if err != nil {
		return
	}
	keyFs, err := fs.NewFs(ctx, parsed.ConfigString+":"+path.Join(parsed.Path, remote))
	if err != nil {
		// ErrorIsFile: the object is there after all; leave it alone.
		fs.Debugf(remote, "not looking for unfinished uploads: %v", err)
		return
	}
	do := keyFs.Features().Command
	listed, err := do(ctx, "list-multipart-uploads", nil, nil)
	if err != nil {
		fs.Errorf(remote, "failed to list unfinished uploads: %v", err)
		return
	}
	uploads, _ := listed.(map[string][]types.MultipartUpload)
	found := 0
	for _, list := range uploads {
		for _, u := range list {
			if u.Key == nil || path.Base(*u.Key) != path.Base(remote) {
				fs.Errorf(remote, "not aborting unfinished uploads: another name starts with this one")
				return
			}
			found++
		}
	}
	if found == 0 {
		return
	}
	if _, err := do(ctx, "cleanup", nil, map[string]string{"max-age": "0s"}); err != nil {
		fs.Errorf(remote, "failed to abort an unfinished upload: %v", err)
	}
}
