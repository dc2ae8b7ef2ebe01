package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units; the SVG scales to the page width.
const (
	chartW      = 960.0
	plotL       = 56.0 // room for the y labels
	plotR       = 16.0
	plotT       = 16.0
	plotH       = 200.0
	stripH      = 18.0 // each of the 429 and retry strips under the plot
	stripGap    = 6.0
	axisH       = 22.0
	maxPoints   = 600 // buckets beyond this are merged, so the page stays small
	countsBarW  = 960.0
	countsBarH  = 28.0
	minSegmentW = 2.0 // a status with any rows stays visible
)

// countsBar is the stacked bar of rows by last status.
type countsBar struct {
	Segments []segment
	Legend   []legendItem
	Total    int
}

type segment struct {
	X, W  string
	Class string
	Title string
}

type legendItem struct {
	Status  string
	Class   string
	Count   int
	Percent string
}

func buildCountsBar(m *Model) countsBar {
	var b countsBar
	for _, s := range Statuses {
		b.Total += m.Counts[s]
	}
	// Widths: proportional, but a non-empty status gets at least minSegmentW.
	var nonEmpty int
	for _, s := range Statuses {
		if m.Counts[s] > 0 {
			nonEmpty++
		}
	}
	avail := countsBarW - minSegmentW*float64(nonEmpty)
	x := 0.0
	for _, s := range Statuses {
		n := m.Counts[s]
		pct := "0%"
		if b.Total > 0 {
			pct = percent(float64(n) / float64(b.Total))
		}
		b.Legend = append(b.Legend, legendItem{Status: s, Class: "s-" + s, Count: n, Percent: pct})
		if n == 0 {
			continue
		}
		w := minSegmentW + avail*float64(n)/float64(b.Total)
		b.Segments = append(b.Segments, segment{X: num(x), W: num(w), Class: "s-" + s,
			Title: fmt.Sprintf("%s: %d (%s)", s, n, pct)})
		x += w
	}
	return b
}

// timeChart is the create rate per step of active time, with 429s and retries under it.
type timeChart struct {
	Height      string
	Step        string // "10 s", or a multiple when buckets were merged
	Line        string // polyline points
	Dots        []point
	YTicks      []tick
	XTicks      []tick
	Sessions    []tick // where a later session begins
	Throttles   []bar
	RetriesBars []bar
	PlotL       string
	PlotR       string
	PlotB       string // bottom of the plot
	Strip1Y     string
	Strip2Y     string
	StripMid1   string
	StripMid2   string
	AxisY       string
	Empty       bool
	Peak        string // highest create rate
	Throttled   int
	Retries     int
}

type point struct{ X, Y, Title string }

type tick struct {
	Pos   string // x or y
	Label string
}

type bar struct{ X, Y, W, H, Title string }

func buildTimeChart(m *Model) timeChart {
	c := timeChart{Throttled: m.Throttled, Retries: m.Retries}
	n := len(m.Buckets)
	plotB := plotT + plotH
	s1 := plotB + stripGap
	s2 := s1 + stripH + stripGap
	axisY := s2 + stripH + stripGap
	c.Height = num(axisY + axisH)
	c.PlotL, c.PlotR, c.PlotB = num(plotL), num(chartW-plotR), num(plotB)
	c.Strip1Y, c.Strip2Y, c.AxisY = num(s1), num(s2), num(axisY)
	c.StripMid1, c.StripMid2 = num(s1+stripH/2+4), num(s2+stripH/2+4)
	if n == 0 {
		c.Empty = true
		c.Step = fmt.Sprintf("%d s", BucketSeconds)
		return c
	}
	k := (n + maxPoints - 1) / maxPoints // buckets per point
	pts := (n + k - 1) / k
	stepSec := float64(k * BucketSeconds)
	c.Step = humanSeconds(stepSec)
	type agg struct {
		created, throttled, retries int
		seconds                     float64
	}
	merged := make([]agg, pts)
	for i, b := range m.Buckets {
		a := &merged[i/k]
		a.created += b.Created
		a.throttled += b.Throttled
		a.retries += b.Retries
		a.seconds += b.span()
	}
	peak, peakT, peakR := 0.0, 0, 0
	for _, a := range merged {
		peak = math.Max(peak, float64(a.created)/a.seconds)
		peakT, peakR = max(peakT, a.throttled), max(peakR, a.retries)
	}
	c.Peak = strconv.FormatFloat(peak, 'f', 1, 64)
	yStep, yMax := 0.25, 1.0 // an empty chart still gets an axis
	if peak > 0 {
		yStep = niceStep(peak / 4)
		yMax = yStep * math.Ceil(peak/yStep-1e-9)
	}
	plotW := chartW - plotL - plotR
	xOf := func(i float64) float64 { return plotL + plotW*i/float64(pts) }
	yOf := func(v float64) float64 { return plotB - plotH*v/yMax }
	var line strings.Builder
	for i, a := range merged {
		rate := float64(a.created) / a.seconds
		x, y := xOf(float64(i)+0.5), yOf(rate)
		fmt.Fprintf(&line, "%s,%s ", num(x), num(y))
		if pts <= 60 { // few points: mark each, with its value on hover
			c.Dots = append(c.Dots, point{X: num(x), Y: num(y),
				Title: fmt.Sprintf("%s: %s creates/s", humanSeconds(float64(i)*stepSec), strconv.FormatFloat(rate, 'f', 1, 64))})
		}
		w := math.Max(plotW/float64(pts)-0.5, 1)
		if a.throttled > 0 {
			h := math.Max(stripH*float64(a.throttled)/float64(peakT), 2)
			c.Throttles = append(c.Throttles, bar{X: num(xOf(float64(i))), Y: num(s1 + stripH - h), W: num(w), H: num(h),
				Title: fmt.Sprintf("%s: %d × 429", humanSeconds(float64(i)*stepSec), a.throttled)})
		}
		if a.retries > 0 {
			h := math.Max(stripH*float64(a.retries)/float64(peakR), 2)
			c.RetriesBars = append(c.RetriesBars, bar{X: num(xOf(float64(i))), Y: num(s2 + stripH - h), W: num(w), H: num(h),
				Title: fmt.Sprintf("%s: %d retries", humanSeconds(float64(i)*stepSec), a.retries)})
		}
	}
	c.Line = strings.TrimSpace(line.String())
	for i := 0.0; i*yStep <= yMax*1.0001; i++ {
		v := i * yStep
		c.YTicks = append(c.YTicks, tick{Pos: num(yOf(v)), Label: strconv.FormatFloat(v, 'g', 4, 64)})
	}
	total := float64(n * BucketSeconds)
	every := niceTimeStep(total / 6)
	for t := 0.0; t <= total; t += every {
		c.XTicks = append(c.XTicks, tick{Pos: num(xOf(t / stepSec)), Label: clock(t)})
	}
	for i, s := range m.SessionStarts {
		if i == 0 || s <= 0 {
			continue
		}
		c.Sessions = append(c.Sessions, tick{Pos: num(xOf(float64(s) / float64(k))), Label: fmt.Sprintf("session %d", i+1)})
	}
	return c
}

// niceStep rounds up to 1, 2, 2.5 or 5 times a power of ten, so the y ticks read well.
func niceStep(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 2.5, 5} {
		if v <= f*p*1.0000001 {
			return f * p
		}
	}
	return 10 * p
}

// niceTimeStep picks a tick interval of at least sec seconds from a clock-friendly list.
func niceTimeStep(sec float64) float64 {
	for _, s := range []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		if s >= sec {
			return s
		}
	}
	return math.Ceil(sec/86400) * 86400
}

// clock writes seconds of active time as m:ss or h:mm:ss.
func clock(sec float64) string {
	s := int(sec)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func humanSeconds(sec float64) string {
	switch {
	case sec < 60:
		return fmt.Sprintf("%g s", sec)
	case sec < 3600:
		return fmt.Sprintf("%g min", math.Round(sec/6)/10)
	default:
		return fmt.Sprintf("%g h", math.Round(sec/360)/10)
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func percent(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	default:
		return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
	}
}
