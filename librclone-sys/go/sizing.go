package main

import (
	"fmt"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/configmap"
	"github.com/rclone/rclone/fs/fspath"
)

// sizedFsString returns the remote to upload a stream of about
// chunkSize*maxParts bytes through: on S3, fsString with chunk_size and
// max_upload_parts set to what the host computed, unless the user set them
// (connection string, RCLONE_CONFIG_<NAME>_*, RCLONE_S3_*, config file).
// Other backends, and a zero chunkSize, get fsString unchanged.
//
// rclone cannot know the size of a stream, so it uploads it in parts of
// chunk_size and fails at max_upload_parts parts: the chunk size decides the
// largest stream an upload can take.
func sizedFsString(fsString string, chunkSize, maxParts int64) (string, error) {
	if chunkSize <= 0 {
		return fsString, nil
	}
	info, _, _, config, err := fs.ConfigFs(fsString)
	if err != nil {
		return "", configError(err)
	}
	if info.Name != "s3" {
		return fsString, nil
	}
	var extra string
	if !userSet(config, "chunk_size") {
		extra += fmt.Sprintf(",chunk_size=%dB", chunkSize)
	}
	if maxParts > 0 && !userSet(config, "max_upload_parts") {
		extra += fmt.Sprintf(",max_upload_parts=%d", maxParts)
	}
	if extra == "" {
		return fsString, nil
	}
	parsed, err := fspath.Parse(fsString)
	if err != nil {
		return "", configError(err)
	}
	return parsed.ConfigString + extra + ":" + parsed.Path, nil
}

// userSet reports whether option key has a value from anywhere but
// rclone's defaults.
func userSet(config *configmap.Map, key string) bool {
	_, ok := config.GetPriority(key, configmap.PriorityConfig)
	return ok
}
