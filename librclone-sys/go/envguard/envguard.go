// Package envguard hides RCLONE_* environment variables while rclone's
// packages initialise.
//
// rclone's packages read global options from RCLONE_* variables in their
// init functions and exit the process on a value they cannot parse. In a
// library that is not acceptable: dbbr must return an error instead. Go
// initialises ready packages in import path order, so this package (which
// sorts before github.com/rclone/...) runs first; the main package's init,
// which runs after every imported package, defines rclone's global flags
// (which also read the environment as they are defined) and then calls
// Restore. DbbrInit then applies the variables and reports bad values as
// errors.
package envguard

import (
	"os"
	"strings"
)

var hidden = map[string]string{}

func init() {
	for _, kv := range os.Environ() {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, "RCLONE_") {
			hidden[name] = value
			_ = os.Unsetenv(name)
		}
	}
}

// Restore puts the hidden variables back.
func Restore() {
	for name, value := range hidden {
		_ = os.Setenv(name, value)
	}
	hidden = nil
}
