package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/rclone/rclone/fs"
	fslog "github.com/rclone/rclone/fs/log"
)

// hostLogger is the host's log function (see DbbrSetLogger): every rclone
// log line goes to it, so that the host masks secrets before showing one.
var hostLogger func(level slog.Level, text string)

// setHostLogger routes rclone's log lines to out.
func setHostLogger(out func(level slog.Level, text string)) {
	hostLogger = out
	fslog.Handler.SetOutput(out)
}

// syslogFacilities are the facilities rclone's --syslog-facility knows.
var syslogFacilities = map[string]bool{
	"KERN": true, "USER": true, "MAIL": true, "DAEMON": true, "AUTH": true, "SYSLOG": true,
	"LPR": true, "NEWS": true, "UUCP": true, "CRON": true, "AUTHPRIV": true, "FTP": true,
	"LOCAL0": true, "LOCAL1": true, "LOCAL2": true, "LOCAL3": true, "LOCAL4": true,
	"LOCAL5": true, "LOCAL6": true, "LOCAL7": true,
}

// checkLogging rejects the logging settings on which fslog.InitLogging
// would exit the process (fs.Fatalf), and those that would send rclone's
// lines somewhere other than the host's log, unmasked (syslog, journald,
// the Windows event log): their lines go through the host's log instead.
func checkLogging() error {
	opt := fslog.Opt
	if opt.UseSyslog {
		// InitLogging's fatal paths first, for a message naming the mistake.
		if !syslogFacilities[opt.SyslogFacility] {
			return configError(fmt.Errorf("RCLONE_SYSLOG_FACILITY=%q is not a syslog facility (e.g. DAEMON, USER, LOCAL0)", opt.SyslogFacility))
		}
		if opt.File != "" {
			return configError(errors.New("RCLONE_SYSLOG and RCLONE_LOG_FILE cannot be used together: unset one of them"))
		}
		return configError(errors.New("RCLONE_SYSLOG is not supported: rclone's log lines go through dbbr's log on stderr, where secrets are masked; unset it and send stderr to syslog"))
	}
	if opt.LogSystemdSupport {
		return configError(errors.New("RCLONE_LOG_SYSTEMD is not supported: rclone's log lines go through dbbr's log on stderr, where secrets are masked; unset it"))
	}
	if opt.WindowsEventLogLevel != fs.LogLevelOff {
		return configError(errors.New("RCLONE_WINDOWS_EVENT_LOG_LEVEL is not supported: unset it"))
	}
	if opt.File != "" {
		// InitLogging checks it on its fatal path only.
		f, err := os.OpenFile(opt.File, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return configError(fmt.Errorf("cannot open RCLONE_LOG_FILE: %w", err))
		}
		return f.Close()
	}
	return nil
}

// initLogging runs fslog.InitLogging without its two effects on the host
// process: with a log file it would point file descriptor 2 at the file
// (swallowing the host's own error lines), and with journald detected on
// stderr it would write there directly. The host writes rclone's lines to
// RCLONE_LOG_FILE itself, masked.
func initLogging() {
	file := fslog.Opt.File
	fslog.Opt.File = ""
	fslog.InitLogging()
	fslog.Opt.File = file
	fslog.Opt.LogSystemdSupport = false
	if hostLogger != nil {
		// Back on top of whatever InitLogging installed.
		fslog.Handler.SetOutput(hostLogger)
	}
}

// lowLevelRetries counts the requests rclone retried (a 5xx, a reset
// connection): rclone has no counter of them (its pacer does not count
// and its stats do not see them) and announces each only in a debug log
// record, which retryCounter looks for.
var lowLevelRetries atomic.Int64

// The log record of a low-level retry: rclone's pacer (fs/pacer.go) logs
// "low level retry %d/%d (error %v)" with "pacer" as its object.
// logging_test.go drives a real retry and fails if rclone's record no
// longer reads so.
const (
	retryObject  = "pacer"
	retryMessage = "low level retry "
)

// userLevel is the least severe level of rclone's lines the user asked for
// (RCLONE_LOG_LEVEL, RCLONE_VERBOSE); rclone itself then runs at debug so
// that its retry records can be counted.
var userLevel = slog.LevelInfo

// countRetries makes rclone log at debug level, remembering the level the
// user chose (call it once the log level flags are applied), and counts
// the retry records; userLogger drops the lines the user did not ask for.
// Without a host logger it does nothing: rclone's own output would show
// every line.
func countRetries() {
	if hostLogger == nil {
		return
	}
	ci := fs.GetConfig(context.Background())
	userLevel = fs.LogLevelToSlog(ci.LogLevel)
	ci.LogLevel = fs.LogLevelDebug
	fslog.Handler.SetLevel(slog.LevelDebug)
	fslog.Handler.SetOutput(userLogger)
	fs.SetLogger(retryCounter{fslog.Handler})
}

// userLogger passes the lines at the user's level on to the host.
func userLogger(level slog.Level, text string) {
	if level >= userLevel && hostLogger != nil {
		hostLogger(level, text)
	}
}

// retryCounter is rclone's log handler, counting the records of low-level
// retries in lowLevelRetries on the way. It sees each record before it is
// formatted, so the count does not depend on the format of the lines
// (RCLONE_LOG_FORMAT, RCLONE_USE_JSON_LOG).
type retryCounter struct{ slog.Handler }

func (h retryCounter) Handle(ctx context.Context, r slog.Record) error {
	if isRetry(r) {
		lowLevelRetries.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h retryCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return retryCounter{h.Handler.WithAttrs(attrs)}
}

func (h retryCounter) WithGroup(name string) slog.Handler {
	return retryCounter{h.Handler.WithGroup(name)}
}

// isRetry tells whether r is the record of a low-level retry.
func isRetry(r slog.Record) bool {
	if !strings.HasPrefix(r.Message, retryMessage) {
		return false
	}
	object := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "object" {
			object = a.Value.String()
			return false
		}
		return true
	})
	return object == retryObject
}
