package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

// openExisting opens the log at path for reading only: it must exist and
// be an accessledger log, and nothing is written to it or beside it.
func openExisting(path string) (*sqlitestore.Store, error) {
	return openExistingWith(path, sqlitestore.Options{})
}

// openExistingWith is openExisting with opts.
func openExistingWith(path string, opts sqlitestore.Options) (*sqlitestore.Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --db is required", errUsage)
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no log at %s", path)
		}
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%w: --db %s is a directory, not a log file", errUsage, path)
	}
	s, err := sqlitestore.OpenReadOnly(path, opts)
	if errors.Is(err, sqlitestore.ErrNotLog) {
		return nil, fmt.Errorf("%s is not an accessledger log (%w)", path, err)
	}
	return s, err
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "verify --db FILE [--expect-head POSITION:HASH | --expect-head SIGNED --public-key FILE]", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	expect := fs.String("expect-head", "", "a head recorded earlier, outside the log (POSITION:HASH, or a signed head as accessledger head --sign-key prints it): the log must still hold it")
	pubKey := fs.String("public-key", "", "with a signed --expect-head: the signer's Ed25519 public key (PEM, or 64 hex digits)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *pubKey != "" && *expect == "" {
		return fmt.Errorf("%w: --public-key checks a signed --expect-head, and none is given", errUsage)
	}
	var want *eventstore.Head
	if *expect != "" {
		h, err := expectedHead(*expect, *pubKey)
		if err != nil {
			return err
		}
		want = &h
	}
	store, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	broken := func(err error) error {
		if ce := (*eventstore.ChainError)(nil); errors.As(err, &ce) {
			fmt.Fprintf(stdout, "broken at position %d: %s\n", ce.Position, ce.Reason)
		}
		return err
	}
	head, err := verifyLog(ctx, store)
	if err != nil {
		return broken(err)
	}
	if want != nil {
		if err := eventstore.CheckHead(ctx, store.ReadAll, *want); err != nil {
			return broken(err)
		}
	}
	fmt.Fprintf(stdout, "ok: head position %d hash %s\n", head.Position, head.Hash)
	if want != nil {
		fmt.Fprintf(stdout, "ok: the log still holds the expected head, position %d hash %s\n", want.Position, want.Hash)
	}
	return nil
}

// verifyLog checks the log's hash chain and what the log records of its
// appends, and returns the head verified. The chain cannot see its own
// end cut off; what the log records of its appends (and a head kept
// elsewhere, which the caller checks) can.
func verifyLog(ctx context.Context, store *sqlitestore.Store) (eventstore.Head, error) {
	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	if err != nil {
		return head, err
	}
	return head, store.CrossCheck(ctx)
}

// expectedHead reads --expect-head: POSITION:HASH, or a signed head whose
// signature is checked with the public key. A head at position 0, before
// the first event, is refused: every log holds it, so it proves nothing.
func expectedHead(text, pubKey string) (eventstore.Head, error) {
	if h, err := eventstore.ParseHead(text); err == nil {
		if pubKey != "" {
			return h, fmt.Errorf("%w: --public-key checks a signed head, and %q is not signed", errUsage, text)
		}
		if h.Position == 0 {
			return h, fmt.Errorf("%w: --expect-head %q is the head of an empty log, which every log holds: it proves nothing", errUsage, text)
		}
		return h, nil
	}
	signed, err := eventstore.ParseSignedHead(text)
	if err != nil {
		return eventstore.Head{}, fmt.Errorf("%w: --expect-head %q is neither POSITION:HASH nor a signed head (POSITION:HASH:TIME:SIGNATURE, as accessledger head --sign-key prints it)", errUsage, text)
	}
	if pubKey == "" {
		return eventstore.Head{}, fmt.Errorf("%w: a signed --expect-head needs --public-key to check its signature", errUsage)
	}
	pub, err := readPublicKey(pubKey)
	if err != nil {
		return eventstore.Head{}, err
	}
	if err := signed.Verify(pub); err != nil {
		return eventstore.Head{}, err
	}
	return signed.Head, nil
}

// runHead prints the log's head, signed if a key is given: a checkpoint to
// keep outside the log and check it against later (verify --expect-head).
// A log cut at its end gets none; a signed head needs the whole chain to
// verify.
func runHead(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("head", "head --db FILE [--sign-key FILE]", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	signKey := fs.String("sign-key", "", "sign the head and the time with this Ed25519 private key (PEM, as keygen writes it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if *signKey != "" {
		k, err := readPrivateKey(*signKey)
		if err != nil {
			return err
		}
		key = k
	}
	store, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	if key == nil {
		// A head kept outside the log vouches for the log up to it: not
		// for one cut at its end.
		if err := store.CheckEnd(ctx); err != nil {
			return fmt.Errorf("the log does not verify, so its head is not printed: %w", err)
		}
		fmt.Fprintf(stdout, "%d:%s\n", head.Position, head.Hash)
		return nil
	}
	// A signed head vouches for the log up to it: the chain must verify.
	verified, err := verifyLog(ctx, store)
	if err != nil {
		return fmt.Errorf("the log does not verify, so its head is not signed: %w", err)
	}
	// The head signed is the one verified (the log may have grown since
	// Head was read).
	fmt.Fprintln(stdout, eventstore.SignHead(key, verified, time.Now()).String())
	return nil
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events", "events --db FILE [--from N] [--stream S]", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	from := fs.Uint64("from", 1, "first position to print (with --stream: first stream version)")
	stream := fs.String("stream", "", "print only this stream, e.g. accessPackage/<id>")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == 0 || *from > eventstore.MaxPosition {
		return fmt.Errorf("%w: --from runs from 1 to %d", errUsage, uint64(eventstore.MaxPosition))
	}
	store, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer store.Close()

	events := store.ReadAll(ctx, eventstore.Position(*from-1))
	if *stream != "" {
		events = store.ReadStream(ctx, eventstore.StreamID(*stream), eventstore.Version(*from-1))
	}
	return writeNDJSON(stdout, events)
}

// writeNDJSON writes events one JSON object per line.
func writeNDJSON(w io.Writer, events func(func(eventstore.Event, error) bool)) error {
	bw := bufio.NewWriter(w)
	for e, err := range events {
		if err != nil {
			return err
		}
		b, _ := e.MarshalJSON() // canonical form; never fails
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
