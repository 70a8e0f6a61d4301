package main

import (
	"context"
	"errors"
	"sync"
	"time"
)

// cleanupTimeout bounds the clean-up after a failure or an interrupt
// (removing a staging object or a claim), so that a server that stopped
// answering cannot hold the process up for rclone's retries.
const cleanupTimeout = 5 * time.Second

// base is the context of every storage call. interrupt cancels it: calls in
// progress fail at once and later ones fail before any I/O. There is one
// per process because the host interrupts when it is shutting down.
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

// await runs call on a goroutine of its own and returns what it returns,
// or ctx's error as soon as ctx ends (and before starting if it has
// ended). Cancelling the context is not enough to stop every storage call:
// rclone does not heed it everywhere (SFTP requests, a wait for the pacer's
// token), so this is what makes a call return at once after interrupt, or
// a clean-up within its bound. A call given up on goes on in the
// background with its context cancelled; what it returns then is dropped,
// and undo (if not nil) gets a value it returned without error, to release
// what the call made. call must not use memory the host owns.
func await[T any](ctx context.Context, call func() (T, error), undo func(T)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		value T
		err   error
	}
	done := make(chan result, 1)
	go func() {
		value, err := call()
		done <- result{value, err}
	}()
	select {
	case r := <-done:
		return r.value, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done: // finished as ctx ended: its result stands
		return r.value, r.err
	default:
	}
	group := abandoned
	group.Add(1)
	go func() {
		defer group.Done()
		if r := <-done; r.err == nil && undo != nil {
			undo(r.value)
		}
	}()
	return zero, ctx.Err()
}

// abandoned counts the calls given up on that still run, with their
// clean-up (undo, a claim's removal): drain waits for them before the host
// exits.
var abandoned = new(sync.WaitGroup)

// drain waits until every call given up on has ended and cleaned up, or
// for limit at most; whether they all ended.
func drain(limit time.Duration) bool {
	ended := make(chan struct{})
	group := abandoned
	go func() {
		group.Wait()
		close(ended)
	}()
	select {
	case <-ended:
		return true
	case <-time.After(limit):
		return false
	}
}

// awaitErr is await for a call that returns only an error.
func awaitErr(ctx context.Context, call func() error) error {
	_, err := await(ctx, func() (struct{}, error) { return struct{}{}, call() }, nil)
	return err
}

// sleep waits for d, or until ctx ends; whether it waited the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
