package main

import (
	"context"
	"errors"
	"time"
)

// cleanupTimeout bounds the clean-up after a failure or an interrupt
// (removing a staging object or a claim), so that a server that stopped
// answering cannot hold the process up for rclone's retries.
const cleanupTimeout = 5 * time.Second

// base is the context of every storage call. interrupt cancels it: calls in
// progress fail at once (rclone does not retry a cancelled call) and later
// ones fail before any I/O. There is one per process because the host
// interrupts when it is shutting down.
var base, cancelBase = newBase()

func newBase() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// interrupt cancels every storage call in progress and every later one.
func interrupt() {
	cancelBase()
}

// interrupted tells whether err is the failure of a call that interrupt
// stopped.
func interrupted(err error) bool {
	return base.Err() != nil && errors.Is(err, context.Canceled)
}

// cleanupContext is for the clean-up after a failure or an interrupt: it is
// not cancelled by interrupt, but it is bounded.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), cleanupTimeout)
}
