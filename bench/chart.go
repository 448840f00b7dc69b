package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"
)

// Geometry of the chart, in SVG user units. A panel is its title, a plot
// area of plotHeight, and the scenario labels under it.
const (
	chartLeft   = 70
	chartRight  = 20
	chartTop    = 36
	panelTitle  = 30 // from a panel's top to its plot area
	plotHeight  = 230
	panelHeight = panelTitle + plotHeight + 40
	barWidth    = 24
	legendItem  = 112 // width of one system in the legend (graphql@7475f45 fits)
	legendLeft  = 300 // room for the first panel's title, left of the legend
)

// groupWidth is the width of one scenario's bars, n systems side by side.
func groupWidth(n int) int { return n*barWidth + 34 }

// systemColors tells the systems apart in the chart; a traced system is a
// lighter shade of its untraced twin, a baseline one a darker shade.
var systemColors = map[string]string{
	sysFloor: "#8c8c8c", sysLegacy: "#2f6db5", sysGraphQL: "#d9534f",
	sysLegacyTraced: "#8fb3e0", sysGraphQLTraced: "#eca09d", sysOld: "#5b9b4a",
}

// baselineColors are the shades of legacy@<rev> and graphql@<rev>.
var baselineColors = map[string]string{sysLegacy: "#173a66", sysGraphQL: "#7d2522"}

func systemColor(system string) string {
	if base, _, ok := strings.Cut(system, "@"); ok {
		return baselineColors[base]
	}
	return systemColors[system]
}

// systemsRun are the systems of systemOrder that ran in r.
func (r *results) systemsRun() []string {
	var out []string
	for _, sys := range systemOrder(r.Config.Tracing, r.Config.Baseline, r.Config.Old != "") {
		for _, x := range r.Runs {
			if x.System == sys {
				out = append(out, sys)
				break
			}
		}
	}
	return out
}

// chart draws two grouped bar charts, req/s and p99 latency, one group of
// bars per scenario and one bar per system, as a standalone SVG.
func chart(r *results) []byte {
	names, systems := r.scenarioNames(), r.systemsRun()
	width := max(chartLeft+len(names)*groupWidth(len(systems)), chartLeft+legendLeft+len(systems)*legendItem) + chartRight
	height := chartTop + 2*panelHeight
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">Conduit vs floor: %d connections, %gs per scenario and system (%s)</text>`+"\n",
		chartLeft, r.Config.Conns, r.Config.DurationSec, r.Started.UTC().Format("2006-01-02"))
	legend(&b, systems, width-chartRight-len(systems)*legendItem, chartTop+12)
	panel(&b, r, names, systems, chartTop, "Throughput, req/s (higher is better)", func(x runResult) float64 { return x.ReqPerSec }, "%.0f", 0)
	panel(&b, r, names, systems, chartTop+panelHeight, "p99 latency, ms (lower is better; dashed: the 50 ms target)", func(x runResult) float64 { return x.P99Ms }, "%.1f", 50)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func legend(b *bytes.Buffer, systems []string, x, y int) {
	for i, sys := range systems {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x+i*legendItem, y-9, systemColor(sys), x+i*legendItem+14, y, sys)
	}
}

// panel draws one bar chart of value with its top edge at y, and a dashed
// line at goal unless it is 0.
func panel(b *bytes.Buffer, r *results, names, systems []string, y int, title string, value func(runResult) float64, format string, goal float64) {
	top := goal
	for _, x := range r.Runs {
		top = max(top, value(x))
	}
	step, ceil := ticks(top)
	scale := func(v float64) float64 { return float64(plotHeight) * v / ceil }
	base := y + panelTitle + plotHeight
	group := groupWidth(len(systems))
	right := chartLeft + len(names)*group
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="12" font-weight="bold">%s</text>`+"\n", chartLeft, y+12, html.EscapeString(title))
	for v := 0.0; v <= ceil+step/2; v += step {
		ty := float64(base) - scale(v)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", chartLeft, right, ty, ty)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", chartLeft-6, ty+4, trimFloat(v))
	}
	for g, name := range names {
		gx := chartLeft + g*group + 17
		for slot, sys := range systems {
			x, ok := r.run(name, sys)
			if !ok {
				continue
			}
			h := scale(value(x))
			bx := gx + slot*barWidth
			fmt.Fprintf(b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				bx, float64(base)-h, barWidth-2, h, systemColor(sys), name, sys, fmt.Sprintf(format, value(x)))
			fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="9" text-anchor="middle">%s</text>`+"\n",
				bx+barWidth/2-1, float64(base)-h-3, fmt.Sprintf(format, value(x)))
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", gx+len(systems)*barWidth/2, base+16, html.EscapeString(name))
	}
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", chartLeft, right, base, base)
	if goal > 0 {
		gy := float64(base) - scale(goal)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333" stroke-dasharray="6 4"/>`+"\n", chartLeft, right, gy, gy)
	}
}

// ticks picks a round step (1, 2 or 5 times a power of ten) that divides
// 0..top into about five parts, and the round ceiling above top.
func ticks(top float64) (step, ceil float64) {
	if top <= 0 {
		return 1, 5
	}
	raw := top / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * pow; step >= raw {
			break
		}
	}
	return step, math.Ceil(top/step) * step
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", math.Round(v*100)/100)
}
