package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/legacy"
)

// legacyUsage is `conduit legacy-usage [-since 7d]`: the report of who
// still calls the legacy API, read from the counts every replica writes.
func legacyUsage(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("legacy-usage", flag.ContinueOnError)
	fs.SetOutput(stdout)
	sinceFlag := fs.String("since", "7d", "how far back: a duration (7d, 36h, 90m) or a time (2027-03-01, 2027-03-01T14:00Z)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("legacy-usage: unexpected arguments %q", fs.Args())
	}
	since, err := parseSince(*sinceFlag, time.Now())
	if err != nil {
		return fmt.Errorf("legacy-usage: -since %q: %v", *sinceFlag, err)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// The report is the output; the database's own messages would be noise in it.
	store, closeDB, err := openDatabase(ctx, cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer closeDB()
	counts, err := store.UsageSince(ctx, since)
	if err != nil {
		return err
	}
	return writeUsageReport(stdout, since, counts)
}

// parseSince reads -since: a duration back from now (days as "7d"), or a
// time; either way the start of its hour, since calls are counted by hour.
func parseSince(s string, now time.Time) (time.Time, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return time.Time{}, errors.New("want a number of days of at least 1, such as 7d")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if parsed, err := time.ParseDuration(s); err == nil {
		if parsed <= 0 {
			return time.Time{}, errors.New("want a positive duration")
		}
		d = parsed
	} else {
		t, err := legacy.ParseTime(s)
		if err != nil {
			return time.Time{}, errors.New("want a duration (7d, 36h, 90m) or a time (2027-03-01, 2027-03-01T14:00Z)")
		}
		return t.Truncate(time.Hour), nil
	}
	return now.Add(-d).UTC().Truncate(time.Hour), nil
}

// topClients is how many of an operation's clients the report names.
const topClients = 3

// writeUsageReport writes the counts as a table, one row per operation
// that was called, most called first, then the operations nobody called:
// those are the ones that can go.
func writeUsageReport(w io.Writer, since time.Time, counts []conduit.UsageCount) error {
	type client struct {
		name  string
		calls int64
	}
	type row struct {
		operation         string
		calls, signedIn   int64
		clients           []client
		firstSeen, latest time.Time
	}
	rows := map[string]*row{}
	for _, c := range counts {
		r := rows[c.Operation]
		if r == nil {
			r = &row{operation: c.Operation, firstSeen: c.FirstSeen, latest: c.LastSeen}
			rows[c.Operation] = r
		}
		r.calls += c.Calls
		if c.SignedIn {
			r.signedIn += c.Calls
		}
		if i := slices.IndexFunc(r.clients, func(cl client) bool { return cl.name == c.Client }); i >= 0 {
			r.clients[i].calls += c.Calls
		} else {
			r.clients = append(r.clients, client{c.Client, c.Calls})
		}
		if c.FirstSeen.Before(r.firstSeen) {
			r.firstSeen = c.FirstSeen
		}
		if c.LastSeen.After(r.latest) {
			r.latest = c.LastSeen
		}
	}
	var called []*row
	var uncalled []string
	for _, rt := range legacy.Routes() {
		if r := rows[rt.OperationID]; r != nil {
			called = append(called, r)
			delete(rows, rt.OperationID)
		} else {
			uncalled = append(uncalled, rt.OperationID)
		}
	}
	for _, r := range rows {
		called = append(called, r) // an operation since removed from the table
	}
	slices.SortStableFunc(called, func(a, b *row) int { return cmp.Compare(b.calls, a.calls) })

	var b bytes.Buffer
	fmt.Fprintf(&b, "Calls to the legacy REST API since %s, from every replica (times in UTC)\n\n", since.UTC().Format("2006-01-02 15:04"))
	if len(called) == 0 {
		b.WriteString("No calls.\n")
	} else {
		// Numbers align right, names left: each number is padded to its
		// column's width before tabwriter lines the columns up.
		width := func(head string, n func(*row) int64) int {
			w := len(head)
			for _, r := range called {
				w = max(w, len(strconv.FormatInt(n(r), 10)))
			}
			return w
		}
		wCalls := width("CALLS", func(r *row) int64 { return r.calls })
		wSigned := width("SIGNED IN", func(r *row) int64 { return r.signedIn })
		wClients := width("CLIENTS", func(r *row) int64 { return int64(len(r.clients)) })
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "OPERATION\t%*s\t%*s\t%*s\tTOP CLIENTS\tFIRST CALL\tLAST CALL\n", wCalls, "CALLS", wSigned, "SIGNED IN", wClients, "CLIENTS")
		for _, r := range called {
			slices.SortStableFunc(r.clients, func(a, b client) int { return cmp.Or(cmp.Compare(b.calls, a.calls), cmp.Compare(a.name, b.name)) })
			var top []string
			for _, c := range r.clients[:min(len(r.clients), topClients)] {
				top = append(top, fmt.Sprintf("%s %d", c.name, c.calls))
			}
			if more := len(r.clients) - topClients; more > 0 {
				top = append(top, fmt.Sprintf("+%d more", more))
			}
			fmt.Fprintf(tw, "%s\t%*d\t%*d\t%*d\t%s\t%s\t%s\n", r.operation, wCalls, r.calls, wSigned, r.signedIn, wClients, len(r.clients),
				strings.Join(top, ", "), r.firstSeen.UTC().Format(time.DateTime), r.latest.UTC().Format(time.DateTime))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(uncalled) > 0 {
		fmt.Fprintf(&b, "\nNot called: %s\n", strings.Join(uncalled, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}
