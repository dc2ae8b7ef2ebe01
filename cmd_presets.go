package main

import (
	"context"
	"strings"

	"github.com/userimport/userimport/mapping"
)

func (e *environment) presetsCommand() *command {
	return &command{
		name: "presets", args: "[NAME]", flags: newFlagSet("presets", e.stdout),
		summary: "list the source presets, or print one's mapping to copy and edit",
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
		}
		return nil
	case 1:
		m, err := mapping.Preset(args[0], mapping.PresetOptions{})
		if err != nil {
			return err
		}
		e.printf(e.stdout, "%s\n", m.Spec())
		return nil
	default:
		return &usageError{cmd: "presets", msg: "presets takes at most one preset name"}
	}
}
