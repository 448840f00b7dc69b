package difftest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// Command is `conduit diff`, given the arguments after "diff". It prints
// the report (or, with -report, its summary) to stdout, and returns an
// error when the run could not be made or found a difference that the
// known-differences file does not list: the command then exits with
// status 1.
func Command(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("conduit diff", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: conduit diff -old URL -new URL [-seed N] [-sequences N] [-report FILE] [-known FILE] [-replays N] [-reduce N] [-parallel N]")
		fs.PrintDefaults()
	}
	oldURL := fs.String("old", "", "base URL of the old backend's REST API, such as http://127.0.0.1:5000/api (on an empty database)")
	newURL := fs.String("new", "", "base URL of this backend's REST API, such as http://127.0.0.1:8080/api (on another empty database)")
	seed := fs.Uint64("seed", 1, "chooses the generated sequences: the same seed plays the same calls")
	sequences := fs.Int("sequences", DefaultSequences, "how many generated sequences follow the script")
	report := fs.String("report", "", "write the report to `FILE`.md (Markdown) and FILE.json (JSON)")
	knownPath := fs.String("known", DefaultKnownFile, "the known-differences `FILE` (YAML)")
	replays := fs.Int("replays", DefaultReplays, "bound on the replays spent reducing each difference")
	reduce := fs.Int("reduce", DefaultReduce, "bound on how many distinct unexpected differences are reduced")
	parallel := fs.Int("parallel", DefaultParallel, "how many generated sequences are played at once")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("diff: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("diff: unexpected argument %q", fs.Arg(0))
	}
	// In order (not a map's), so that the first flag missing is named.
	for _, f := range []struct{ name, url string }{{"-old", *oldURL}, {"-new", *newURL}} {
		u, err := url.Parse(f.url)
		if f.url == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("diff: %s wants the base URL of a REST API, such as http://127.0.0.1:5000/api", f.name)
		}
	}
	if *sequences < 0 || *replays < 1 || *reduce < 0 || *parallel < 1 {
		return errors.New("diff: -sequences and -reduce want a number from 0, -replays and -parallel from 1")
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "known" })
	known, err := LoadKnown(*knownPath, !explicit)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	cfg := Config{
		Old: *oldURL, New: *newURL, Seed: *seed, Sequences: *sequences, Known: known,
		Replays: *replays, Reduce: *reduce, Parallel: *parallel, Log: stdout,
	}
	if *reduce == 0 {
		cfg.Reduce = -1 // none
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	if *report == "" {
		fmt.Fprint(stdout, res.Markdown())
	} else {
		base := strings.TrimSuffix(strings.TrimSuffix(*report, ".md"), ".json")
		js, err := res.JSON()
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		if err := os.WriteFile(base+".md", []byte(res.Markdown()), 0o644); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		fmt.Fprint(stdout, res.Summary())
		fmt.Fprintf(stdout, "\nreport: %s.md and %s.json\n", base, base)
	}
	if n := res.Unexpected(); n > 0 {
		return fmt.Errorf("diff: %d calls differ from the old backend in ways %s does not list", n, *knownPath)
	}
	return nil
}
