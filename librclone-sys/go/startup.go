package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/config/configfile"
	"github.com/rclone/rclone/fs/config/configflags"
	fslog "github.com/rclone/rclone/fs/log"
	"github.com/rclone/rclone/lib/atexit"
	"github.com/spf13/pflag"
)

var (
	initOnce sync.Once
	initErr  error
)

// rcloneVersion is rclone's version as stamped at build time.
func rcloneVersion() string {
	return fs.Version
}

// initialise runs the rclone CLI's start-up (cmd.initConfig) minus the parts
// that belong to a command line program, and turns every place where the CLI
// would exit the process into a returned error. It runs once.
func initialise() error {
	initOnce.Do(func() { initErr = doInitialise() })
	return initErr
}

func doInitialise() error {
	// The host process owns SIGINT and SIGTERM.
	atexit.IgnoreSignals()

	// Options registered with fs.RegisterGlobalOptions read RCLONE_* here;
	// this returns an error for a bad value rather than exiting.
	if err := fs.GlobalOptionsInit(); err != nil {
		return configError(err)
	}
	// Flags not yet converted into options (--config, --cache-dir, -v, -q,
	// --header, ...) read the environment when they are defined, and exit
	// the process on a bad value: check those values first.
	if err := checkFlagEnv(); err != nil {
		return err
	}
	ctx := context.Background()
	ci := fs.GetConfig(ctx)
	flagSet := pflag.NewFlagSet("rclone", pflag.ContinueOnError)
	configflags.AddFlags(ci, flagSet)
	if err := fs.GlobalOptionsInit(); err != nil {
		return configError(err)
	}
	if err := checkLogFile(); err != nil {
		return err
	}
	fslog.InitLogging()
	configflags.SetFlags(ci)

	// Never ask on a terminal for the config password.
	ci.AskPassword = false
	// Without RCLONE_CONFIG and without a config file at the default place,
	// remotes come from the environment: use an in-memory config instead of
	// announcing the missing file.
	if _, set := os.LookupEnv("RCLONE_CONFIG"); !set {
		if _, err := os.Stat(config.GetConfigPath()); errors.Is(err, os.ErrNotExist) {
			if err := config.SetConfigPath(""); err != nil {
				return configError(err)
			}
		}
	}
	configfile.Install()
	if err := config.Data().Load(); err != nil && !errors.Is(err, config.ErrorConfigFileNotFound) {
		return configError(fmt.Errorf("failed to load rclone config file %q: %w", config.GetConfigPath(), err))
	}
	accounting.Start(ctx)
	fs.Debugf("dbbr", "embedded rclone %s initialised", fs.Version)
	return nil
}

// checkFlagEnv validates the environment variables that
// configflags.AddFlags and configflags.SetFlags would otherwise reject with
// os.Exit.
func checkFlagEnv() error {
	env := func(name string) (string, bool) { return os.LookupEnv("RCLONE_" + name) }
	verbose := 0
	if v, ok := env("VERBOSE"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return configError(fmt.Errorf("RCLONE_VERBOSE=%q is not a number: set it to 0, 1 or 2", v))
		}
		verbose = n
	}
	quiet := false
	if v, ok := env("QUIET"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return configError(fmt.Errorf("RCLONE_QUIET=%q is not a boolean: set it to true or false", v))
		}
		quiet = b
	}
	if verbose > 0 && quiet {
		return configError(errors.New("RCLONE_VERBOSE and RCLONE_QUIET are both set: unset one of them"))
	}
	if _, ok := env("LOG_LEVEL"); ok && (verbose > 0 || quiet) {
		return configError(errors.New("RCLONE_LOG_LEVEL cannot be combined with RCLONE_VERBOSE or RCLONE_QUIET: unset one of them"))
	}
	for _, name := range []string{"HEADER", "HEADER_UPLOAD", "HEADER_DOWNLOAD", "METADATA_SET"} {
		v, ok := env(name)
		if !ok {
			continue
		}
		var list fs.CommaSepList
		if err := list.Set(v); err != nil {
			return configError(fmt.Errorf("RCLONE_%s is not a valid comma separated list: %w", name, err))
		}
		if name == "METADATA_SET" {
			for _, kv := range list {
				if !strings.Contains(kv, "=") {
					return configError(fmt.Errorf("RCLONE_METADATA_SET item %q is not key=value", kv))
				}
			}
		} else if _, err := fs.ParseHeaders(list); err != nil {
			return configError(fmt.Errorf("RCLONE_%s: %w", name, err))
		}
	}
	if v, ok := env("BIND"); ok && v != "" {
		addrs, err := net.LookupIP(v)
		if err != nil || len(addrs) != 1 {
			return configError(fmt.Errorf("RCLONE_BIND=%q must resolve to exactly one IP address", v))
		}
	}
	if v, ok := env("DISABLE"); ok && v == "help" {
		return configError(fmt.Errorf("RCLONE_DISABLE=help is not supported here: name the features to disable, from %s", strings.Join(new(fs.Features).List(), ", ")))
	}
	if v, ok := env("DSCP"); ok && v != "" && !validDSCP(v) {
		return configError(fmt.Errorf("RCLONE_DSCP=%q is not a DSCP value or name (e.g. CS1, AF21, EF)", v))
	}
	return nil
}

// validDSCP accepts what rclone's --dscp accepts: a number below 64 or a name.
func validDSCP(v string) bool {
	if n, err := strconv.ParseUint(v, 10, 6); err == nil && n < 64 {
		return true
	}
	switch strings.ToUpper(v) {
	case "BE", "DF", "CS0", "CS1", "AF11", "AF12", "AF13", "CS2", "AF21", "AF22", "AF23",
		"CS3", "AF31", "AF32", "AF33", "CS4", "AF41", "AF42", "AF43", "CS5", "EF", "CS6", "LE", "CS7":
		return true
	}
	return false
}

// checkLogFile opens RCLONE_LOG_FILE the way InitLogging would, so that a
// bad path is an error instead of an exit.
func checkLogFile() error {
	if fslog.Opt.File == "" {
		return nil
	}
	f, err := os.OpenFile(fslog.Opt.File, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return configError(fmt.Errorf("cannot open RCLONE_LOG_FILE: %w", err))
	}
	return f.Close()
}
