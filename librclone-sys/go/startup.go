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
	"github.com/rclone/rclone/lib/atexit"
	"github.com/spf13/pflag"
)

var (
	initOnce sync.Once
	initErr  error

	// cliFlags are the rclone command line's global flags. defineFlags
	// makes them while the RCLONE_* environment is hidden; initialise then
	// gives those that are not yet rclone options (-v, -q, --config,
	// --header, ...) their RCLONE_* values.
	cliFlags *pflag.FlagSet
)

// rcloneVersion is rclone's version as stamped at build time.
func rcloneVersion() string {
	return fs.Version
}

// defineFlags defines rclone's global flags. Call it from init, while
// envguard hides the environment: rclone's flag definitions read their
// RCLONE_* variable on the spot and exit the process on a bad value.
func defineFlags() {
	cliFlags = newFlagSet()
}

// newFlagSet returns rclone's global flags as configflags.AddFlags defines
// them, with their values from whatever RCLONE_* variables are visible.
func newFlagSet() *pflag.FlagSet {
	flagSet := pflag.NewFlagSet("rclone", pflag.ContinueOnError)
	configflags.AddFlags(fs.GetConfig(context.Background()), flagSet)
	return flagSet
}

// initialise runs the rclone CLI's start-up (cmd.initConfig) minus the parts
// that belong to a command line program, and turns every place where the CLI
// would exit the process into a returned error. It runs once.
func initialise() error {
	initOnce.Do(func() { initErr = doInitialise() })
	return initErr
}

// streamBuffer is how far rclone reads ahead of an upload, unless the user
// sets RCLONE_BUFFER_SIZE.
const streamBuffer = 2 << 20

func doInitialise() error {
	// The host process owns SIGINT and SIGTERM.
	atexit.IgnoreSignals()

	if err := applyEnvironment(cliFlags); err != nil {
		return err
	}
	initLogging()
	ctx := context.Background()
	ci := fs.GetConfig(ctx)
	configflags.SetFlags(ci)
	countRetries()

	// Never ask on a terminal for the config password.
	ci.AskPassword = false
	// rclone reads up to --buffer-size (16 MiB) ahead of a stream it
	// uploads. The host's pipeline already decouples the dump from the
	// upload, so a smaller read-ahead keeps memory down at no cost in speed.
	if _, set := os.LookupEnv("RCLONE_BUFFER_SIZE"); !set {
		ci.BufferSize = streamBuffer
	}
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

// applyEnvironment reads the RCLONE_* environment into rclone's global
// options and into flagSet as the rclone command line does, and returns a
// configuration error naming the variable where the command line would exit.
func applyEnvironment(flagSet *pflag.FlagSet) error {
	if err := setFlagsFromEnv(flagSet); err != nil {
		return err
	}
	// Options registered with fs.RegisterGlobalOptions (--timeout,
	// --log-level, ...) read RCLONE_* here and parse them with rclone's own
	// parsers.
	if err := fs.GlobalOptionsInit(); err != nil {
		return configError(fmt.Errorf("invalid RCLONE_* setting (fix or unset it): %w", err))
	}
	if err := checkFlagValues(flagSet); err != nil {
		return err
	}
	if err := checkTLSFiles(fs.GetConfig(context.Background())); err != nil {
		return err
	}
	return checkLogging()
}

// setFlagsFromEnv gives every flag of flagSet that is not an rclone option
// the value of its RCLONE_* variable, through the flag's own Set as rclone's
// flags.installFlag does when it defines the flag, so that a bad value gets
// rclone's own parse error (where installFlag would exit). Options are left
// to fs.GlobalOptionsInit.
func setFlagsFromEnv(flagSet *pflag.FlagSet) error {
	var err error
	flagSet.VisitAll(func(f *pflag.Flag) {
		if _, isOption := f.Value.(*fs.Option); isOption || err != nil {
			return
		}
		name := fs.OptionToEnv(f.Name)
		value, set := os.LookupEnv(name)
		if !set {
			return
		}
		if e := flagSet.Set(f.Name, value); e != nil {
			err = configError(fmt.Errorf("invalid %s (fix or unset it): %w", name, e))
		}
	})
	return err
}

// checkFlagValues rejects the flag values that configflags.SetFlags would
// reject only by exiting the process (fs.Fatalf), so that it never does.
// Where rclone has a function that returns the error, it is called; the
// other checks are written out here because rclone makes them solely on its
// fatal path, and must follow configflags.SetFlags of the rclone in go.mod.
func checkFlagValues(flagSet *pflag.FlagSet) error {
	r := flagReader{set: flagSet}
	verbose := r.count("verbose")
	quiet := r.bool("quiet")
	deletes := 0
	for _, name := range []string{"delete-before", "delete-during", "delete-after"} {
		if r.bool(name) {
			deletes++
		}
	}
	headerFlags := []string{"header", "header-upload", "header-download"}
	headers := make([][]string, len(headerFlags))
	for i, name := range headerFlags {
		headers[i] = r.stringArray(name)
	}
	metadataSet := r.stringArray("metadata-set")
	bind, disable, dscp := r.string("bind"), r.string("disable"), r.string("dscp")
	configPath, cacheDir, tempDir := r.string("config"), r.string("cache-dir"), r.string("temp-dir")
	if r.err != nil {
		return fmt.Errorf("rclone's global flags are not the ones this library knows: %w", r.err)
	}

	// Fatal path only.
	if verbose > 0 && quiet {
		return configError(errors.New("RCLONE_VERBOSE and RCLONE_QUIET are both set: unset one of them"))
	}
	// The command line refuses --log-level with -v or -q on its fatal path
	// only. (SetFlags looks --log-level up among the command line's own
	// flags, so in here it would let -v or -q win silently.)
	if _, set := os.LookupEnv("RCLONE_LOG_LEVEL"); set && (verbose > 0 || quiet) {
		return configError(errors.New("RCLONE_LOG_LEVEL cannot be combined with RCLONE_VERBOSE or RCLONE_QUIET: unset one of them"))
	}
	// Fatal path only.
	if deletes > 1 {
		return configError(errors.New("only one of RCLONE_DELETE_BEFORE, RCLONE_DELETE_DURING and RCLONE_DELETE_AFTER can be true: unset the others"))
	}
	// rclone's own parser (SetFlags calls it through MustParseHeaders).
	// Its error quotes the value, which may hold a credential: leave it out.
	for i, values := range headers {
		if _, err := fs.ParseHeaders(values); err != nil {
			return configError(fmt.Errorf("%s is not an HTTP header: set it to 'Name: value'", fs.OptionToEnv(headerFlags[i])))
		}
	}
	// Fatal path only.
	for _, kv := range metadataSet {
		if !strings.Contains(kv, "=") {
			return configError(fmt.Errorf("RCLONE_METADATA_SET item %q is not key=value", kv))
		}
	}
	// Fatal path only.
	if bind != "" {
		addrs, err := net.LookupIP(bind)
		if err != nil || len(addrs) != 1 {
			return configError(fmt.Errorf("RCLONE_BIND=%q must resolve to exactly one IP address", bind))
		}
	}
	// Fatal path only: "help" prints the features and exits.
	if disable == "help" {
		return configError(fmt.Errorf("RCLONE_DISABLE=help is not supported here: name the features to disable, from %s", strings.Join(new(fs.Features).List(), ", ")))
	}
	// Fatal path only, and rclone's parser (parseDSCP) is not exported.
	if dscp != "" && !validDSCP(dscp) {
		return configError(fmt.Errorf("RCLONE_DSCP=%q is not a DSCP value or name (e.g. CS1, AF21, EF)", dscp))
	}
	// rclone's own setters, which SetFlags calls again with the same values.
	for _, dir := range []struct {
		flag, value string
		set         func(string) error
	}{
		{"config", configPath, config.SetConfigPath},
		{"cache-dir", cacheDir, config.SetCacheDir},
		{"temp-dir", tempDir, config.SetTempDir},
	} {
		if err := dir.set(dir.value); err != nil {
			return configError(fmt.Errorf("invalid %s (fix or unset it): %w", fs.OptionToEnv(dir.flag), err))
		}
	}
	return nil
}

// flagReader reads flag values and keeps the first error: a flag that
// rclone no longer defines.
type flagReader struct {
	set *pflag.FlagSet
	err error
}

func (r *flagReader) keep(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *flagReader) count(name string) int {
	v, err := r.set.GetCount(name)
	r.keep(err)
	return v
}

func (r *flagReader) bool(name string) bool {
	v, err := r.set.GetBool(name)
	r.keep(err)
	return v
}

func (r *flagReader) string(name string) string {
	v, err := r.set.GetString(name)
	r.keep(err)
	return v
}

func (r *flagReader) stringArray(name string) []string {
	v, err := r.set.GetStringArray(name)
	r.keep(err)
	return v
}

// validDSCP accepts what rclone's --dscp accepts (its unexported parseDSCP):
// a number below 64 or a name.
func validDSCP(v string) bool {
	if n, err := strconv.ParseUint(v, 10, 6); err == nil && n < 64 {
		return true
	}
	switch strings.ToUpper(v) {
	case "BE", "DF", "CS0", "CS1", "AF11", "AF12", "AF13", "CS2", "AF21", "AF22", "AF23",
		"CS3", "AF31", "AF32", "AF33", "CS4", "AF41", "AF42", "AF43", "CS5", "EF", "CS6", "LE":
		return true
	}
	return false
}
