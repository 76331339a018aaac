// Command accessledger inspects and verifies accessledger event logs and
// runs the demo.
//
// Usage:
//
//	accessledger <command> [flags]
//
// Commands:
//
//	demo            play the seed scenarios, write every report and a signed archive, and verify them
//	verify          check a log's hash chain and print its head
//	events          print a log's events as NDJSON
//	head            print a log's head, signed if you like, to keep outside the log
//	replay          rebuild a log's projection (or catch it up)
//	report          write a report: CSV, JSON or HTML
//	why             explain why a user held a resource role, checked against the log
//	archive         write a verifiable archive of a range: events, reports, signed manifest
//	verify-archive  check an archive, its signature and that the live log still holds it
//	keygen          make an Ed25519 key pair for signing archives
//	bench           generate a synthetic tenant and measure the write path and the projection
//
// Run "accessledger <command> --help" for a command's flags. Errors go to
// standard error; the exit code is 0 on success, 1 when the work or a check
// failed (a broken chain, an archive that does not verify, an unreadable
// file) and 2 for usage errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
)

// errUsage marks errors that exit with code 2.
var errUsage = errors.New("usage")

// errShown marks usage errors the flag package has already printed, with
// the usage, so that they are not printed twice.
var errShown = errors.New("shown")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"demo", "play the seed scenarios, write every report and a signed archive, and verify them", runDemo},
	{"verify", "check a log's hash chain and print its head", runVerify},
	{"events", "print a log's events as NDJSON", runEvents},
	{"head", "print a log's head, signed if you like, to keep outside the log", runHead},
	{"replay", "rebuild a log's projection (or catch it up)", runReplay},
	{"report", "write a report: CSV, JSON or HTML", runReport},
	{"why", "explain why a user held a resource role, checked against the log", runWhy},
	{"archive", "write a verifiable archive of a range: events, reports, signed manifest", runArchive},
	{"verify-archive", "check an archive, its signature and that the live log still holds it", runVerifyArchive},
	{"keygen", "make an Ed25519 key pair for signing archives", runKeygen},
	{"bench", "generate a synthetic tenant and measure the write path and the projection", runBench},
	{"version", "print the tool's version (as an archive's manifest records it)", runVersion},
}

// runVersion prints the tool's version.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, "accessledger", version())
	return err
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	out := &checkedWriter{w: os.Stdout}
	code := run(ctx, os.Args[1:], out, os.Stderr)
	stop()
	if out.err != nil && code == 0 {
		// Output that could not be written (a full disk, a closed pipe)
		// is a failure, whatever the command did.
		fmt.Fprintf(os.Stderr, "accessledger: write the output: %v\n", out.err)
		code = 1
	}
	os.Exit(code)
}

// checkedWriter remembers the first error writing to w; commands write
// their output with fmt, which does not say.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if len(args) > 2 && args[0] == "help" {
		fmt.Fprintf(stderr, "accessledger help: usage: help [COMMAND], with one command, not %q\n", strings.Join(args[1:], " "))
		return 2
	}
	if len(args) == 2 && args[0] == "help" {
		args = []string{args[1], "--help"} // help CMD is CMD --help
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout) // asked for: it is the output
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		// Help asked for is the command's output, on stdout; the flag
		// package writes it where it writes errors.
		flagOut := stderr
		if helpAsked(args[1:]) {
			flagOut = stdout
		}
		err := c.run(ctx, args[1:], stdout, flagOut)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errShown) && flagOut == stderr:
			return 2 // printed there already
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "accessledger %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "accessledger %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "accessledger: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// helpAsked reports whether args ask for a command's help.
func helpAsked(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "accessledger: event-sourced entitlement management")
	fmt.Fprintln(w, "\nUsage:\n\n\taccessledger <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"accessledger <command> --help\" for a command's flags.")
}

// newFlagSet returns a flag set whose parse errors are usage errors and
// whose --help prints the command's synopsis and flags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: accessledger %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning every failure other than --help into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w: %v", errUsage, errShown, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// version is the tool's version: the module version it was built as, or
// the VCS revision of a build from a checkout.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "(devel) " + s.Value[:min(12, len(s.Value))]
		}
	}
	return v
}
