package main

import (
	"context"
	"strings"

	"github.com/userimport/userimport/mapping"
)

func (e *environment) presetsCommand() *command {
	return &command{
		name: "presets", args: "[NAME]", flags: newFlagSet("presets", e.stdout),
		summary: "list the source presets (which export to make, what carries over), or print one's mapping to copy and edit",
		examples: []string{
			"userimport presets",
			"# start a mapping of your own from a preset",
			"userimport presets supabase > mapping.json",
		},
		run: e.presetsRun,
	}
}

// presetsRun lists the presets, or prints one's mapping so it can be copied and edited.
func (e *environment) presetsRun(_ context.Context, args []string) error {
	switch len(args) {
	case 0:
		for _, p := range mapping.Presets() {
			e.printf(e.stdout, "%-10s %-16s %s\n", p.Name, strings.Join(p.Formats, ","), p.Description)
			e.printf(e.stdout, "%-27s export: %s\n%-27s carries: %s\n", "", p.Export, "", p.Carries)
		}
		e.printf(e.stdout, "\nuserimport presets NAME prints one's mapping, to copy and edit.\n")
		return nil
	case 1:
		m, err := mapping.Preset(args[0], mapping.PresetOptions{})
		if err != nil {
			return err
		}
		// Which export to make and what it carries, for people, on stderr: stdout stays a
		// mapping file to copy (userimport presets NAME > mapping.json).
		info := m.Info()
		e.printf(e.stderr, "%s: %s\n\nexport:  %s\ncarries: %s\n\nmapping (a --mapping file to copy and edit):\n", info.Name, info.Description, info.Export, info.Carries)
		e.printf(e.stdout, "%s\n", m.Spec())
		return nil
	default:
		return &usageError{cmd: "presets", msg: "presets takes at most one preset name"}
	}
}
