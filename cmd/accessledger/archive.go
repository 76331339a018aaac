package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/report"
)

func runArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("archive", "archive --db FILE --out FILE.tar.gz [--since T] [--until T] [--reports KINDS] [--user USERS] [--format FORMATS] [--sign-key FILE] [--trust-projection [--projection FILE]]", stderr)
	var f readFlags
	fs.StringVar(&f.db, "db", "", "the event log (SQLite file)")
	fs.StringVar(&f.projection, "projection", "", "with --trust-projection, the projection file (default: the log's path with .projection added)")
	trust := fs.Bool("trust-projection", false, "build the reports from the projection file, caught up, instead of from a projection rebuilt from the log "+
		"(faster; only for a projection file nobody but this program can write: an edited one would put its answers into the archive)")
	fs.StringVar(&f.since, "since", "", "archive the events recorded from this instant (RFC 3339 or a date)")
	fs.StringVar(&f.until, "until", "", "archive the events recorded before this instant (RFC 3339 or a date)")
	fs.StringVar(&f.out, "out", "", "the archive to write (.tar.gz); an existing file is not overwritten")
	users := fs.String("user", "", "users whose access packages and resource roles to report: ids or display names, comma-separated")
	formats := fs.String("format", "csv,json,html", "the formats of the reports, comma-separated")
	reports := fs.String("reports", "all", "the reports to include, comma-separated (catalogs, connected-organizations, conflicts, requests, audit, assignments, access-packages, resources), all, or none for the events alone")
	signKey := fs.String("sign-key", "", "sign the manifest with this Ed25519 private key (PEM, as keygen writes it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if f.projection != "" && !*trust {
		return fmt.Errorf("%w: --projection names the projection to build the reports from, which takes --trust-projection: "+
			"without it they are built from a projection rebuilt from the log", errUsage)
	}
	if _, err := os.Lstat(f.out); err == nil {
		// Said before the work; creating it refuses one made meanwhile.
		return outExists(f.out)
	}
	var opts report.ArchiveOptions
	var err error
	if opts.Since, err = parseTime("since", f.since); err != nil {
		return err
	}
	if opts.Until, err = parseTime("until", f.until); err != nil {
		return err
	}
	for _, s := range strings.Split(*formats, ",") {
		fm, err := report.ParseFormat(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		opts.Formats = append(opts.Formats, fm)
	}
	switch *reports {
	case "all":
	case "none":
		opts.Reports = []report.Kind{}
	default:
		for _, s := range strings.Split(*reports, ",") {
			k, err := report.ParseKind(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			opts.Reports = append(opts.Reports, k)
		}
	}
	if *signKey != "" {
		if opts.SignKey, err = readPrivateKey(*signKey); err != nil {
			return err
		}
	}
	// Refuse bad options as usage errors before opening anything; the
	// users' names are resolved to ids below, and checked then.
	probe := opts
	if *users != "" {
		probe.UserIDs = []string{"named"}
	}
	if err := probe.Check(); err != nil {
		return reportError(err)
	}
	opts.Tool = "accessledger " + version()
	var r *reader
	if opts.Reports != nil && len(opts.Reports) == 0 {
		var given []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "user" || f.Name == "format" || f.Name == "projection" || f.Name == "trust-projection" {
				given = append(given, "--"+f.Name)
			}
		})
		if len(given) > 0 {
			return fmt.Errorf("%w: %s: --reports none archives the events alone, without reports or a projection", errUsage, strings.Join(given, ", "))
		}
		// The events alone: no projection to open or catch up, and the
		// log is read once, in order, so it is not memory-mapped.
		log, err := openExistingWith(f.db, sqlitestore.Options{MmapSize: -1})
		if err != nil {
			return err
		}
		defer log.Close()
		r = &reader{log: log}
	} else {
		open := f.openRebuilt
		if *trust {
			open = f.open
		}
		if r, err = open(ctx); err != nil {
			return err
		}
		defer r.Close()
	}
	if *users != "" {
		for _, u := range strings.Split(*users, ",") {
			id, err := r.userID(ctx, strings.TrimSpace(u))
			if err != nil {
				return err
			}
			opts.UserIDs = append(opts.UserIDs, id)
		}
		if err := opts.Check(); err != nil {
			return reportError(err) // a user named twice, by name and id
		}
	}
	// WriteArchive checks the chain of what it archives; a log cut at its
	// end has a chain that holds, and only the log's own records show it.
	if err := r.log.CheckEnd(ctx); err != nil {
		return fmt.Errorf("the log does not verify, so it is not archived: %w", err)
	}
	file, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return outExists(f.out)
	}
	if err != nil {
		return err
	}
	m, err := report.WriteArchive(ctx, file, r.log, r.p, opts)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.out)        // the options were checked above: what fails here is the work (an empty range, a read)
		return reportError(err) // a range with no events is the flags' doing
	}
	fmt.Fprintf(stdout, "%s: events %d..%d (%d), head hash %s, %s", f.out, m.Start.Position+1, m.Head.Position, m.Events, m.Head.Hash, plural(len(m.Files), "file"))
	if opts.SignKey != nil {
		fmt.Fprintf(stdout, ", signed by key %s", fingerprint(opts.SignKey.Public().(ed25519.PublicKey)))
	}
	fmt.Fprintln(stdout)
	return nil
}

func runVerifyArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify-archive", "verify-archive --archive FILE.tar.gz [--public-key FILE] [--db FILE]", stderr)
	path := fs.String("archive", "", "the archive to verify")
	pubKey := fs.String("public-key", "", "the signer's Ed25519 public key (PEM, as keygen writes it, or 64 hex digits): the manifest must be signed with it")
	db := fs.String("db", "", "the live log: it must still hold the archive's head")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --archive is required", errUsage)
	}
	var opts report.VerifyOptions
	var err error
	if *pubKey != "" {
		if opts.PublicKey, err = readPublicKey(*pubKey); err != nil {
			return err
		}
	}
	if *db != "" {
		log, err := openExisting(*db)
		if err != nil {
			return err
		}
		defer log.Close()
		opts.Log = log
	}
	if fi, err := os.Stat(*path); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: --archive %s is a directory, not an archive", errUsage, *path)
	}
	file, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer file.Close()
	m, err := report.VerifyArchive(ctx, file, opts)
	if err != nil {
		fmt.Fprintf(stdout, "FAILED: %v\n", err)
		return err
	}
	match := "match"
	if len(m.Files) == 1 {
		match = "matches"
	}
	fmt.Fprintf(stdout, "ok: %s made by %s at %s\n  events %d..%d (%d) re-hash from %s to %s\n  %s %s the manifest\n",
		*path, m.Tool, m.CreatedDateTime.Format("2006-01-02 15:04:05Z07:00"), m.Start.Position+1, m.Head.Position, m.Events,
		short(m.Start.Hash), short(m.Head.Hash), plural(len(m.Files), "file"), match)
	if opts.PublicKey != nil {
		fmt.Fprintf(stdout, "  signature verified with key %s\n", fingerprint(opts.PublicKey))
	} else {
		fmt.Fprintln(stdout, "  signature not checked (no --public-key)")
	}
	if opts.Log != nil {
		fmt.Fprintf(stdout, "  the log %s verifies up to and still holds the archive's head at position %d\n", *db, m.Head.Position)
	} else {
		fmt.Fprintln(stdout, "  not checked against the live log (no --db)")
	}
	return nil
}

func short(hash string) string { return hash[:12] + "…" }

// plural writes n things: "1 file", "31 files".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", "keygen --out NAME", stderr)
	out := fs.String("out", "accessledger-signing", "write NAME.key (the private key, readable only by you) and NAME.pub")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || os.IsPathSeparator((*out)[len(*out)-1]) {
		return fmt.Errorf("%w: --out names the key files (NAME.key, NAME.pub), and %q names none", errUsage, *out)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := writeKeys(*out, pub, priv); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.key: private key (keep it secret)\n%s.pub: public key %s (give it to whoever verifies)\n", *out, *out, fingerprint(pub))
	return nil
}

// writeKeys writes a key pair as PEM: NAME.key in PKCS #8, NAME.pub as a
// SubjectPublicKeyInfo. It never overwrites a file.
func writeKeys(name string, pub ed25519.PublicKey, priv ed25519.PrivateKey) error {
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	keys := []struct {
		path, kind string
		der        []byte
		mode       os.FileMode
	}{{name + ".key", "PRIVATE KEY", privDER, 0o600}, {name + ".pub", "PUBLIC KEY", pubDER, 0o644}}
	// Both files are created before either is written, so that a name
	// taken leaves no half of a pair behind.
	files := make([]*os.File, 0, len(keys))
	abandon := func() {
		for _, f := range files {
			f.Close()
			os.Remove(f.Name())
		}
	}
	for _, k := range keys {
		f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, k.mode)
		if err != nil {
			abandon()
			if errors.Is(err, os.ErrExist) {
				return outExists(k.path)
			}
			return err
		}
		files = append(files, f)
	}
	for i, k := range keys {
		if err := pem.Encode(files[i], &pem.Block{Type: k.kind, Bytes: k.der}); err != nil {
			abandon()
			return err
		}
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			abandon()
			return err
		}
	}
	return nil
}

func readPEM(path, kind string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != kind {
		return nil, fmt.Errorf("%s: not a PEM %s", path, kind)
	}
	return block.Bytes, nil
}

// readPrivateKey reads a PEM private key file. Its errors, as
// readPublicKey's, are usage errors: a key given that cannot be read.
func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	k, err := readPrivateKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return k, nil
}

func readPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return priv, nil
}

// readPublicKey reads a PEM public key file, or 64 hex digits.
func readPublicKey(s string) (ed25519.PublicKey, error) {
	k, err := readPublicKeyText(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return k, nil
}

func readPublicKeyText(s string) (ed25519.PublicKey, error) {
	if raw, err := hex.DecodeString(s); err == nil && len(raw) == ed25519.PublicKeySize {
		return ed25519.PublicKey(raw), nil
	}
	der, err := readPEM(s, "PUBLIC KEY")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--public-key %s: neither a file nor 64 hex digits", s)
	}
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", s)
	}
	return pub, nil
}

// fingerprint names a public key: the first 16 hex digits of its SHA-256.
func fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + hex.EncodeToString(sum[:8])
}
