package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/configflags"
	"github.com/rclone/rclone/fs/fshttp"
	fslog "github.com/rclone/rclone/fs/log"
	"github.com/spf13/pflag"
)

// envCase is one RCLONE_* environment and whether rclone rejects it.
// "{dir}" in a value stands for a directory holding the files of
// writeTLSFiles.
type envCase struct {
	name   string
	env    map[string]string
	reject string // the variable the error names; "" if the environment is valid
	// stricter: refused although rclone may accept it (it would send its
	// log lines around the host's log, unmasked).
	stricter bool
}

var envCases = []envCase{
	{"valid settings", map[string]string{
		"RCLONE_VERBOSE": "1", "RCLONE_QUIET": "false", "RCLONE_HEADER": "X-A: b, c",
		"RCLONE_HEADER_UPLOAD": "X-B: c", "RCLONE_METADATA_SET": "k=v", "RCLONE_DSCP": "af21",
		"RCLONE_BIND": "127.0.0.1", "RCLONE_DISABLE": "Move", "RCLONE_DELETE_AFTER": "true",
		"RCLONE_TIMEOUT": "1m",
	}, "", false},
	{"every DSCP name", nil, "", false}, // filled in by dscpCases
	{"verbose not a number", map[string]string{"RCLONE_VERBOSE": "lots"}, "RCLONE_VERBOSE", false},
	{"quiet not a boolean", map[string]string{"RCLONE_QUIET": "maybe"}, "RCLONE_QUIET", false},
	{"dump headers not a boolean", map[string]string{"RCLONE_DUMP_HEADERS": "often"}, "RCLONE_DUMP_HEADERS", false},
	{"verbose and quiet", map[string]string{"RCLONE_VERBOSE": "2", "RCLONE_QUIET": "true"}, "RCLONE_QUIET", false},
	{"log level and verbose", map[string]string{"RCLONE_LOG_LEVEL": "INFO", "RCLONE_VERBOSE": "1"}, "RCLONE_LOG_LEVEL", false},
	{"log level and quiet", map[string]string{"RCLONE_LOG_LEVEL": "INFO", "RCLONE_QUIET": "true"}, "RCLONE_LOG_LEVEL", false},
	{"two delete modes", map[string]string{"RCLONE_DELETE_BEFORE": "true", "RCLONE_DELETE_AFTER": "true"}, "RCLONE_DELETE_BEFORE", false},
	{"header without a name", map[string]string{"RCLONE_HEADER": "secret-token"}, "RCLONE_HEADER", false},
	{"download header without a name", map[string]string{"RCLONE_HEADER_DOWNLOAD": "secret-token"}, "RCLONE_HEADER_DOWNLOAD", false},
	{"metadata without a value", map[string]string{"RCLONE_METADATA_SET": "key"}, "RCLONE_METADATA_SET", false},
	{"disable help", map[string]string{"RCLONE_DISABLE": "help"}, "RCLONE_DISABLE", false},
	{"unknown DSCP name", map[string]string{"RCLONE_DSCP": "CS7"}, "RCLONE_DSCP", false},
	{"DSCP out of range", map[string]string{"RCLONE_DSCP": "64"}, "RCLONE_DSCP", false},
	{"option not a duration", map[string]string{"RCLONE_TIMEOUT": "soon"}, "timeout", false},
	{"TLS files", map[string]string{
		"RCLONE_CA_CERT": "{dir}/ca.pem", "RCLONE_CLIENT_CERT": "{dir}/client.pem",
		"RCLONE_CLIENT_KEY": "{dir}/client.key",
	}, "", false},
	{"CA cert missing", map[string]string{"RCLONE_CA_CERT": "{dir}/missing.pem"}, "RCLONE_CA_CERT", false},
	{"CA cert not PEM", map[string]string{"RCLONE_CA_CERT": "{dir}/garbage.pem"}, "RCLONE_CA_CERT", false},
	{"client cert without key", map[string]string{"RCLONE_CLIENT_CERT": "{dir}/client.pem"}, "RCLONE_CLIENT_KEY", false},
	{"client key without cert", map[string]string{"RCLONE_CLIENT_KEY": "{dir}/client.key"}, "RCLONE_CLIENT_CERT", false},
	{"client key not a key", map[string]string{
		"RCLONE_CLIENT_CERT": "{dir}/client.pem", "RCLONE_CLIENT_KEY": "{dir}/garbage.pem",
	}, "RCLONE_CLIENT_KEY", false},
	{"client cert missing", map[string]string{
		"RCLONE_CLIENT_CERT": "{dir}/missing.pem", "RCLONE_CLIENT_KEY": "{dir}/client.key",
	}, "RCLONE_CLIENT_CERT", false},
	{"syslog facility unknown", map[string]string{"RCLONE_SYSLOG": "true", "RCLONE_SYSLOG_FACILITY": "NOPE"}, "RCLONE_SYSLOG_FACILITY", false},
	{"syslog facility unknown, syslog off", map[string]string{"RCLONE_SYSLOG_FACILITY": "NOPE"}, "", false},
	{"syslog and log file", map[string]string{"RCLONE_SYSLOG": "true", "RCLONE_LOG_FILE": "{dir}/rclone.log"}, "RCLONE_LOG_FILE", false},
	{"syslog", map[string]string{"RCLONE_SYSLOG": "true"}, "RCLONE_SYSLOG", true},
	{"journald", map[string]string{"RCLONE_LOG_SYSTEMD": "true"}, "RCLONE_LOG_SYSTEMD", true},
	{"windows event log", map[string]string{"RCLONE_WINDOWS_EVENT_LOG_LEVEL": "ERROR"}, "RCLONE_WINDOWS_EVENT_LOG_LEVEL", false},
	{"log file", map[string]string{"RCLONE_LOG_FILE": "{dir}/rclone.log"}, "", false},
	{"log file in a missing directory", map[string]string{"RCLONE_LOG_FILE": "{dir}/missing/rclone.log"}, "RCLONE_LOG_FILE", false},
}

// dscpNames are the names validDSCP accepts; rclone must accept each.
var dscpNames = []string{"BE", "DF", "CS0", "CS1", "AF11", "AF12", "AF13", "CS2", "AF21", "AF22", "AF23",
	"CS3", "AF31", "AF32", "AF33", "CS4", "AF41", "AF42", "AF43", "CS5", "EF", "CS6", "LE", "63"}

// allCases expands "every DSCP name" into one case per name, and "{dir}"
// into dir.
func allCases(dir string) []envCase {
	var out []envCase
	for _, c := range envCases {
		if c.env == nil {
			for _, name := range dscpNames {
				out = append(out, envCase{"DSCP " + name, map[string]string{"RCLONE_DSCP": name}, "", false})
			}
			continue
		}
		env := map[string]string{}
		for k, v := range c.env {
			env[k] = strings.ReplaceAll(v, "{dir}", dir)
		}
		c.env = env
		out = append(out, c)
	}
	return out
}

// writeTLSFiles writes into a new directory what the TLS cases name: a CA
// certificate (ca.pem), a client certificate and its key (client.pem,
// client.key), and a file that is no PEM at all (garbage.pem).
func writeTLSFiles(t *testing.T) string {
	dir := t.TempDir()
	write := func(name, kind string, der []byte) {
		data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certificate := func(name string, ca bool) *ecdsa.PrivateKey {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: ca, BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		write(name+".pem", "CERTIFICATE", der)
		return key
	}
	certificate("ca", true)
	key, err := x509.MarshalPKCS8PrivateKey(certificate("client", false))
	if err != nil {
		t.Fatal(err)
	}
	write("client.key", "PRIVATE KEY", key)
	if err := os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEnvironmentErrors checks that applyEnvironment returns a
// configuration error naming the variable for each bad environment, and
// nothing for a good one.
func TestEnvironmentErrors(t *testing.T) {
	dir := writeTLSFiles(t)
	for _, c := range allCases(dir) {
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
	dir := writeTLSFiles(t)
	for _, c := range allCases(dir) {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRcloneStartup$")
			cmd.Env = append(withoutRcloneEnv(os.Environ()), "DBBR_TEST_RCLONE_STARTUP=1")
			for k, v := range c.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			exited := err != nil
			if c.stricter {
				t.Logf("refused here; rclone exits: %v", exited)
				return
			}
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
	fslog.InitLogging()
	// What the first HTTP backend does: load the TLS files.
	fshttp.NewTransport(context.Background())
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
