package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/configflags"
	"github.com/spf13/pflag"
)

// envCase is one RCLONE_* environment and whether rclone rejects it.
type envCase struct {
	name   string
	env    map[string]string
	reject string // the variable the error names; "" if the environment is valid
}

var envCases = []envCase{
	{"valid settings", map[string]string{
		"RCLONE_VERBOSE": "1", "RCLONE_QUIET": "false", "RCLONE_HEADER": "X-A: b, c",
		"RCLONE_HEADER_UPLOAD": "X-B: c", "RCLONE_METADATA_SET": "k=v", "RCLONE_DSCP": "af21",
		"RCLONE_BIND": "127.0.0.1", "RCLONE_DISABLE": "Move", "RCLONE_DELETE_AFTER": "true",
		"RCLONE_TIMEOUT": "1m",
	}, ""},
	{"every DSCP name", nil, ""}, // filled in by dscpCases
	{"verbose not a number", map[string]string{"RCLONE_VERBOSE": "lots"}, "RCLONE_VERBOSE"},
	{"quiet not a boolean", map[string]string{"RCLONE_QUIET": "maybe"}, "RCLONE_QUIET"},
	{"dump headers not a boolean", map[string]string{"RCLONE_DUMP_HEADERS": "often"}, "RCLONE_DUMP_HEADERS"},
	{"verbose and quiet", map[string]string{"RCLONE_VERBOSE": "2", "RCLONE_QUIET": "true"}, "RCLONE_QUIET"},
	{"log level and verbose", map[string]string{"RCLONE_LOG_LEVEL": "INFO", "RCLONE_VERBOSE": "1"}, "RCLONE_LOG_LEVEL"},
	{"log level and quiet", map[string]string{"RCLONE_LOG_LEVEL": "INFO", "RCLONE_QUIET": "true"}, "RCLONE_LOG_LEVEL"},
	{"two delete modes", map[string]string{"RCLONE_DELETE_BEFORE": "true", "RCLONE_DELETE_AFTER": "true"}, "RCLONE_DELETE_BEFORE"},
	{"header without a name", map[string]string{"RCLONE_HEADER": "secret-token"}, "RCLONE_HEADER"},
	{"download header without a name", map[string]string{"RCLONE_HEADER_DOWNLOAD": "secret-token"}, "RCLONE_HEADER_DOWNLOAD"},
	{"metadata without a value", map[string]string{"RCLONE_METADATA_SET": "key"}, "RCLONE_METADATA_SET"},
	{"disable help", map[string]string{"RCLONE_DISABLE": "help"}, "RCLONE_DISABLE"},
	{"unknown DSCP name", map[string]string{"RCLONE_DSCP": "CS7"}, "RCLONE_DSCP"},
	{"DSCP out of range", map[string]string{"RCLONE_DSCP": "64"}, "RCLONE_DSCP"},
	{"option not a duration", map[string]string{"RCLONE_TIMEOUT": "soon"}, "timeout"},
}

// dscpNames are the names validDSCP accepts; rclone must accept each.
var dscpNames = []string{"BE", "DF", "CS0", "CS1", "AF11", "AF12", "AF13", "CS2", "AF21", "AF22", "AF23",
	"CS3", "AF31", "AF32", "AF33", "CS4", "AF41", "AF42", "AF43", "CS5", "EF", "CS6", "LE", "63"}

// allCases expands "every DSCP name" into one case per name.
func allCases() []envCase {
	var out []envCase
	for _, c := range envCases {
		if c.env != nil {
			out = append(out, c)
			continue
		}
		for _, name := range dscpNames {
			out = append(out, envCase{"DSCP " + name, map[string]string{"RCLONE_DSCP": name}, ""})
		}
	}
	return out
}

// TestEnvironmentErrors checks that applyEnvironment returns a
// configuration error naming the variable for each bad environment, and
// nothing for a good one.
func TestEnvironmentErrors(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) {
			flagSet := newFlagSet() // before the variables are set, as in init
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			err := applyEnvironment(flagSet)
			if c.reject == "" {
				if err != nil {
					t.Fatalf("valid environment rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("bad %s accepted", c.reject)
			}
			t.Log(err)
			if kindOf(err) != kindConfig {
				t.Errorf("kind %q, want %q: %v", kindOf(err), kindConfig, err)
			}
			if !strings.Contains(err.Error(), c.reject) {
				t.Errorf("error does not name %s: %v", c.reject, err)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error shows the value: %v", err)
			}
		})
	}
}

// TestRcloneAgrees runs rclone's own command line start-up on each
// environment in a child process: it must exit exactly where
// applyEnvironment returns an error. This catches a hand-written check that
// no longer matches the rclone in go.mod.
func TestRcloneAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process per case")
	}
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRcloneStartup$")
			cmd.Env = append(withoutRcloneEnv(os.Environ()), "DBBR_TEST_RCLONE_STARTUP=1")
			for k, v := range c.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			exited := err != nil
			if exited != (c.reject != "") {
				t.Fatalf("rclone exits: %v, want %v (%v)\n%s", exited, c.reject != "", err, out)
			}
		})
	}
}

// TestRcloneStartup is the child of TestRcloneAgrees: it starts rclone as
// its command line does (cmd.initConfig), which exits on a bad environment.
func TestRcloneStartup(t *testing.T) {
	if os.Getenv("DBBR_TEST_RCLONE_STARTUP") == "" {
		t.Skip("run by TestRcloneAgrees")
	}
	ci := fs.GetConfig(context.Background())
	configflags.AddFlags(ci, pflag.CommandLine)
	if err := fs.GlobalOptionsInit(); err != nil {
		fs.Fatalf(nil, "Failed to initialise global options: %v", err)
	}
	configflags.SetFlags(ci)
}

func withoutRcloneEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "RCLONE_") {
			out = append(out, kv)
		}
	}
	return out
}
