package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fshttp"
)

// checkTLSFiles loads the CA certificates and the client certificate the
// way fshttp.NewTransport does when the first HTTP backend opens, and
// returns a configuration error naming the variable where NewTransport
// would exit the process (fs.Fatalf). Must follow fshttp of the rclone in
// go.mod.
func checkTLSFiles(ci *fs.ConfigInfo) error {
	if ci.ClientCert != "" || ci.ClientKey != "" {
		if ci.ClientCert == "" || ci.ClientKey == "" {
			return configError(errors.New("RCLONE_CLIENT_CERT and RCLONE_CLIENT_KEY must be set together: set both or neither"))
		}
		if _, err := fshttp.LoadKeyPair(ci.ClientCert, ci.ClientKey, ci.ClientPass); err != nil {
			return configError(fmt.Errorf("RCLONE_CLIENT_CERT, RCLONE_CLIENT_KEY (and RCLONE_CLIENT_PASS) do not make a key pair: %w", err))
		}
	}
	for _, file := range ci.CaCert {
		pem, err := os.ReadFile(file)
		if err != nil {
			return configError(fmt.Errorf("cannot read RCLONE_CA_CERT file: %w", err))
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return configError(fmt.Errorf("RCLONE_CA_CERT file %q holds no PEM certificate", file))
		}
	}
	return nil
}
