package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/userimport/userimport/internal/nearest"
)

// command is one subcommand: its flags, its help, and what it does with its arguments.
type command struct {
	name     string
	args     string // the usage line after the name, e.g. "[flags] FILE|-"
	summary  string
	notes    string   // a paragraph after the flags
	examples []string // each "# what it does\nuserimport …"
	flags    *flagSet
	run      func(ctx context.Context, args []string) error
}

// execute parses the flags (GNU style: they may come before or after the arguments), then runs.
func (c *command) execute(ctx context.Context, argv []string) error {
	if err := c.flags.parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			c.help(c.flags.helpOut)
			return nil
		}
		return err
	}
	return c.run(ctx, c.flags.Args())
}

// help prints a short usage: the flags grouped, then a few examples.
func (c *command) help(w io.Writer) {
	fmt.Fprintf(w, "userimport %s: %s\n\nUsage:\n  userimport %s %s\n", c.name, c.summary, c.name, c.args)
	c.flags.printGroups(w)
	if c.notes != "" {
		fmt.Fprintf(w, "\n%s\n", c.notes)
	}
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, ex := range c.examples {
			for _, line := range strings.Split(ex, "\n") {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
	}
}

// flagSet is a command's flags, with what each value takes (for usage errors) and help groups.
type flagSet struct {
	*pflag.FlagSet
	cmd     string
	takes   map[string]string // flag name -> what it takes, said when a value is refused
	groups  []flagGroup
	foreign map[string]string // flags another command takes -> why this one does not
	helpOut io.Writer
}

type flagGroup struct {
	title string
	names []string
}

func newFlagSet(cmd string, helpOut io.Writer) *flagSet {
	fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard) // errors are returned and printed once, by main
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, cmd: cmd, takes: map[string]string{}, helpOut: helpOut}
}

// group names the flags shown together under title in the help.
func (f *flagSet) group(title string, names ...string) {
	f.groups = append(f.groups, flagGroup{title, names})
}

// parse parses argv and turns every complaint into a usage error naming the flag.
func (f *flagSet) parse(argv []string) error {
	err := f.Parse(f.longForms(argv))
	var (
		notExist *pflag.NotExistError
		invalid  *pflag.InvalidValueError
		required *pflag.ValueRequiredError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return err
	case errors.As(err, &notExist):
		return f.unknownFlag(notExist)
	case errors.As(err, &invalid):
		name := invalid.GetFlag().Name
		return &usageError{cmd: f.cmd, flag: "--" + name, msg: fmt.Sprintf("takes %s; got %q", f.what(name), invalid.GetValue())}
	case errors.As(err, &required):
		name := required.GetFlag().Name
		return &usageError{cmd: f.cmd, flag: "--" + name, msg: "needs a value: " + f.what(name)}
	case errors.As(err, &syntax):
		return &usageError{cmd: f.cmd, msg: fmt.Sprintf("bad flag syntax %q", syntax.GetSpecifiedFlag())}
	}
	return &usageError{cmd: f.cmd, msg: err.Error()}
}

func (f *flagSet) what(name string) string {
	if t, ok := f.takes[name]; ok {
		return t
	}
	if fl := f.Lookup(name); fl != nil {
		return "a " + fl.Value.Type()
	}
	return "a value"
}

// longForms accepts Go's single-dash long flags (-rate 5) that earlier versions took.
func (f *flagSet) longForms(argv []string) []string {
	out := make([]string, 0, len(argv))
	for i, a := range argv {
		if a == "--" {
			return append(out, argv[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && f.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

func (f *flagSet) unknownFlag(e *pflag.NotExistError) error {
	name := e.GetSpecifiedName()
	if e.GetSpecifiedShortnames() != "" {
		return &usageError{cmd: f.cmd, msg: fmt.Sprintf("unknown flag -%s", name)}
	}
	if why, ok := f.foreign[name]; ok {
		return &usageError{cmd: f.cmd, flag: "--" + name, msg: fmt.Sprintf("is not a %s flag: %s", f.cmd, why)}
	}
	var names []string
	f.VisitAll(func(fl *pflag.Flag) {
		if !fl.Hidden {
			names = append(names, fl.Name)
		}
	})
	msg := fmt.Sprintf("unknown flag --%s", name)
	if near := nearest.Name(name, names); near != "" {
		msg += fmt.Sprintf(": did you mean --%s?", near)
	}
	return &usageError{cmd: f.cmd, msg: msg}
}

// printGroups writes the flags under their group titles, in the order they were grouped.
func (f *flagSet) printGroups(w io.Writer) {
	seen := map[string]bool{}
	print := func(title string, names []string) {
		var flags []*pflag.Flag
		for _, n := range names {
			if fl := f.Lookup(n); fl != nil && !seen[n] && !fl.Hidden {
				seen[n] = true
				flags = append(flags, fl)
			}
		}
		if len(flags) > 0 {
			fmt.Fprintf(w, "\n%s:\n", title)
			printFlags(w, flags)
		}
	}
	for _, g := range f.groups {
		print(g.title, g.names)
	}
	var rest []string
	f.VisitAll(func(fl *pflag.Flag) { rest = append(rest, fl.Name) })
	title := "Flags"
	if len(f.groups) > 0 {
		title = "Other flags"
	}
	print(title, rest)
	fmt.Fprintf(w, "\n  -h, --help   this help\n")
}

// printFlags lines the flags' descriptions up: "  -v, --verbose   what it does (default …)".
func printFlags(w io.Writer, flags []*pflag.Flag) {
	lines, usages := make([]string, len(flags)), make([]string, len(flags))
	width := 0
	for i, fl := range flags {
		name, usage := pflag.UnquoteUsage(fl)
		line := "      --" + fl.Name
		if fl.Shorthand != "" {
			line = "  -" + fl.Shorthand + ", --" + fl.Name
		}
		if fl.Value.Type() != "bool" && name != "" {
			line += " " + name
		}
		lines[i] = line
		width = max(width, len(line))
		if d := fl.DefValue; d != "" && d != "0" && d != "0s" && d != "false" && !strings.Contains(usage, "(default") {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		usages[i] = usage
	}
	for i := range flags {
		fmt.Fprintf(w, "%-*s   %s\n", width, lines[i], usages[i])
	}
}

// Flag values. Each checks its value when parsed, so a bad one is a usage error before anything
// runs; takes says what it accepts.

// intFlag is an int within [min, max].
type intFlag struct {
	p        *int
	min, max int
}

func (f *flagSet) intVar(p *int, name string, def, min, max int, takes, usage string) {
	*p = def
	f.takes[name] = takes
	f.Var(&intFlag{p, min, max}, name, usage)
}

func (v *intFlag) String() string { return strconv.Itoa(*v.p) }
func (v *intFlag) Type() string   { return "int" }
func (v *intFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	if n < v.min || n > v.max {
		return fmt.Errorf("%d is out of range", n)
	}
	*v.p = n
	return nil
}

// durationFlag is a duration with a unit, at least min ("5" is refused: 5 what?).
type durationFlag struct {
	p   *time.Duration
	min time.Duration
}

func (f *flagSet) durationVar(p *time.Duration, name string, def, min time.Duration, takes, usage string) {
	*p = def
	f.takes[name] = takes
	f.Var(&durationFlag{p, min}, name, usage)
}

func (v *durationFlag) String() string {
	if *v.p == 0 {
		return "0"
	}
	return v.p.String()
}
func (v *durationFlag) Type() string { return "duration" }
func (v *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	if d < v.min {
		return fmt.Errorf("%s is below %s", d, v.min)
	}
	*v.p = d
	return nil
}

// rateFlag is requests per second: a finite number above zero, or "auto".
type rateFlag struct {
	rate *float64
	auto *bool
}

const rateTakes = "requests per second: a number above 0 (e.g. 8 or 0.5), or auto"

func (f *flagSet) rateVar(rate *float64, auto *bool, usage string) {
	f.takes["rate"] = rateTakes
	f.Var(&rateFlag{rate, auto}, "rate", usage)
}

func (v *rateFlag) String() string {
	switch {
	case *v.auto:
		return "auto"
	case *v.rate == 0:
		return ""
	}
	return strconv.FormatFloat(*v.rate, 'g', -1, 64)
}
func (v *rateFlag) Type() string { return "rate" }
func (v *rateFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") {
		*v.auto, *v.rate = true, 0
		return nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	if !(r > 0) || math.IsInf(r, 0) { // NaN fails r > 0
		return fmt.Errorf("%v is not a pace", r)
	}
	*v.rate, *v.auto = r, false
	return nil
}

func unknownCommand(name string, names []string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if near := nearest.Name(name, names); near != "" {
		msg += fmt.Sprintf(": did you mean %q?", near)
	}
	return &usageError{msg: msg + ` (run "userimport help" for the commands)`}
}
