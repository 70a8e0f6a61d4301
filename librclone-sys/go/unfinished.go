package main

import (
	"time"

	"github.com/rclone/rclone/backend/azureblob"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
)

// clearUnfinished discards what an interrupted upload of remote left on
// the server where rclone's own abort cannot. rclone aborts a failed
// multipart upload with the upload's context, which an interrupt has
// cancelled by then: on Azure Blob the uploaded blocks then stay,
// uncommitted (invisible to a normal listing, kept and billed for a week).
// rclone's chunk writer for the same name clears them (it commits an
// empty block list and deletes the empty blob, or keeps a committed blob
// as it is) with a context that still works. A block whose request the
// interrupt cut off may still be stored by the server after that, so it
// is done a second time a moment later. The claim keeps other dbbr runs
// away from the name meanwhile.
func clearUnfinished(f fs.Fs, remote string) {
	if base.Err() == nil {
		return // not interrupted: rclone's abort ran
	}
	if _, ok := f.(*azureblob.Fs); !ok {
		return
	}
	ctx, cancel := cleanupContext()
	defer cancel()
	for pass := 0; pass < 2; pass++ {
		if pass > 0 {
			time.Sleep(lateBlockWait)
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

// lateBlockWait is how long clearUnfinished gives the server to store a
// block whose request was cut off before clearing again.
const lateBlockWait = time.Second
