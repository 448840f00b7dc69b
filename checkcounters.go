package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/conduit-dev/conduit/db"
)

// checkCounters is `conduit check-counters [-repair]`: it compares the
// article counts the database keeps for the lists' totals with a count of
// the rows, and with -repair sets those that differ right. Without
// -repair, a difference is an error, so that a cron job or a deploy step
// notices.
func checkCounters(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check-counters", flag.ContinueOnError)
	fs.SetOutput(stdout)
	repair := fs.Bool("repair", false, "set the counters that differ to the count of the rows (writers of articles wait meanwhile)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("check-counters: unexpected arguments %q", fs.Args())
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	store, closeDB, err := openDatabase(ctx, cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer closeDB()
	wrong, err := store.CheckCounters(ctx, *repair)
	if err != nil {
		return err
	}
	if len(wrong) == 0 {
		_, err := fmt.Fprintln(stdout, "Every article counter equals the count of its rows.")
		return err
	}
	if err := writeMismatches(stdout, wrong, *repair); err != nil {
		return err
	}
	if !*repair {
		return fmt.Errorf("check-counters: %d counters differ from the rows; run `conduit check-counters -repair` to set them right", len(wrong))
	}
	return nil
}

func writeMismatches(w io.Writer, wrong []db.CounterMismatch, repaired bool) error {
	head := "Counters that differ from the rows:"
	if repaired {
		head = "Counters set to the count of the rows:"
	}
	fmt.Fprintf(w, "%s\n\n", head)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SCOPE\tKEY\tNAME\tSHARD\tKEPT\tROWS\t")
	for _, m := range wrong {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t\n", m.Scope, m.Key, m.Name, m.Shard, m.Kept, m.Actual)
	}
	return tw.Flush()
}
