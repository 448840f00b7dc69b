package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// maxAnswerShown bounds an answer's body in the Markdown report; the JSON
// report has it whole.
const maxAnswerShown = 2000

// JSON is the result as indented JSON: the report for programs.
func (r *Result) JSON() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// Summary is the head of the Markdown report: the verdict and the table
// by operation.
func (r *Result) Summary() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# conduit diff")
	p("")
	p("- old backend: %s", r.Old)
	p("- new backend: %s", r.New)
	p("- seed %d, the script and %d generated sequences, %d calls; %d replays to reduce differences; %.1f s", r.Seed, r.Sequences, r.Calls, r.Replays, r.Seconds)
	p("- prefix of every name made: `%s` (started %s)", r.Prefix, r.Started.Format("2006-01-02 15:04:05Z"))
	p("")
	expected := 0
	for _, o := range r.Ops {
		expected += o.Expected
	}
	if n := r.Unexpected(); n > 0 {
		p("**FAIL: %d of %d calls differ in ways the known differences do not list.**", n, r.Calls)
	} else {
		p("**PASS: no unexpected difference in %d calls** (%d with expected differences only).", r.Calls, expected)
	}
	p("")
	p("## By operation")
	p("")
	p("| Operation | Calls | Same | Expected differences | Unexpected differences |")
	p("|---|--:|--:|--:|--:|")
	var tot OpStats
	for _, o := range r.Ops {
		p("| `%s` | %d | %d | %d | %d |", o.Operation, o.Calls, o.Same, o.Expected, o.Unexpected)
		tot.Calls += o.Calls
		tot.Same += o.Same
		tot.Expected += o.Expected
		tot.Unexpected += o.Unexpected
	}
	p("| **all** | %d | %d | %d | %d |", tot.Calls, tot.Same, tot.Expected, tot.Unexpected)
	return b.String()
}

// Markdown is the whole report for people: the summary, then each
// unexpected difference with its reproduction, then the expected ones.
func (r *Result) Markdown() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var unexpected, expected []Finding
	for _, f := range r.Findings {
		if f.Expected == nil {
			unexpected = append(unexpected, f)
		} else {
			expected = append(expected, f)
		}
	}
	if len(unexpected) > 0 {
		p("")
		p("## Unexpected differences")
		p("")
		p("Each is one operation, kind and path; `{p}` is the prefix of the sequence's names. To accept one, add an entry to the known-differences file with the rule of the API that justifies it.")
		base := ""
		if u, err := url.Parse(r.New); err == nil {
			base = strings.TrimSuffix(u.Path, "/")
		}
		for i, f := range unexpected {
			p("")
			writeFinding(&b, i+1, f, base)
		}
	}
	if len(expected) > 0 {
		p("")
		p("## Expected differences")
		p("")
		p("| Operation | Kind | Path | Old | New | Calls | Rule |")
		p("|---|---|---|---|---|--:|---|")
		for _, f := range expected {
			p("| `%s` | %s | %s | %s | %s | %d | %s |", f.Op, f.Kind, code(f.Path), code(f.Old), code(f.New), f.Count, cell(f.Expected.Rule))
		}
	}
	return b.String()
}

// writeFinding writes finding n; base is the path of the backends' API,
// which the calls' paths are under.
func writeFinding(b *strings.Builder, n int, f Finding, base string) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	where := "the script"
	if f.Sequence > 0 {
		where = fmt.Sprintf("generated sequence %d", f.Sequence)
	}
	at := ""
	if f.Path != "" {
		at = " at " + code(f.Path)
	}
	p("### %d. `%s`: %s%s", n, f.Op, f.Kind, at)
	p("")
	p("- old: %s", code(f.Old))
	p("- new: %s", code(f.New))
	if f.Detail != "" {
		p("- %s", f.Detail)
	}
	p("- seen in %d calls; first in %s, call %d (%s)", f.Count, where, f.Step, code(f.At))
	rep := f.Reproduction
	if rep == nil {
		p("- not reduced: the bound of reduced differences was reached (see -reduce)")
		return
	}
	switch {
	case !rep.Reproduced:
		p("- a replay of the %d calls up to it did not show it again (it depends on what else the databases hold, or on timing); the calls as first played:", rep.From)
	case rep.Minimal:
		p("- reduced from %d calls to %d in %d replays; no single call can be left out. Played with `{p}` = `%s`:", rep.From, len(rep.Calls), rep.Replays, rep.Prefix)
	default:
		p("- reduced from %d calls to %d; the bound of %d replays stopped the reduction, so it may not be minimal. Played with `{p}` = `%s`:", rep.From, len(rep.Calls), rep.Replays, rep.Prefix)
	}
	p("")
	for i, c := range rep.Calls {
		who := "anonymous"
		switch {
		case c.Step.As == AsForged:
			who = "with a forged token"
		case c.Step.As == AsGarbage:
			who = "with an Authorization header holding no token"
		case c.Step.As != "":
			who = "as `" + rep.Prefix + c.Step.As + "`"
		}
		line := fmt.Sprintf("%d. `%s %s` %s", i+1, c.NewCall.Method, base+c.NewCall.Path, who)
		if c.OldCall.Path != c.NewCall.Path {
			line = fmt.Sprintf("%d. `%s %s` on the new backend, `%s` on the old, %s", i+1, c.NewCall.Method, base+c.NewCall.Path, base+c.OldCall.Path, who)
		}
		if c.Step.Note != "" {
			line += ": " + c.Step.Note
		}
		p("%s", line)
		if c.NewCall.Body != "" {
			p("   ```json")
			p("   %s", c.NewCall.Body)
			p("   ```")
		}
		if i == len(rep.Calls)-1 {
			for _, side := range []struct {
				name string
				a    answer
			}{{"old", c.OldAnswer}, {"new", c.NewAnswer}} {
				p("   - %s backend answered %d:", side.name, side.a.Status)
				if side.a.Body != "" {
					p("     ```json")
					p("     %s", shown(side.a.Body))
					p("     ```")
				}
			}
		}
	}
}

// shown is a body as the Markdown report shows it: indented, and cut
// when it is long.
func shown(body string) string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(body), "     ", "  ") == nil {
		body = buf.String()
	}
	if len(body) > maxAnswerShown {
		body = body[:maxAnswerShown] + "\n     … (cut; the JSON report has it whole)"
	}
	return body
}

// code is s as inline code in a table cell.
func code(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// cell is prose in a table cell: on one line, pipes escaped.
func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}
