package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

func (e *environment) completionCommand() *command {
	return &command{
		name: "completion", args: "bash|zsh|fish", flags: newFlagSet("completion", e.stdout),
		summary: "print a shell completion script for commands and flags",
		examples: []string{
			"# bash: load it now, or put the line in ~/.bashrc",
			"source <(userimport completion bash)",
			"userimport completion fish > ~/.config/fish/completions/userimport.fish",
		},
		run: e.completionRun,
	}
}

func (e *environment) completionRun(_ context.Context, args []string) error {
	if len(args) != 1 {
		return &usageError{cmd: "completion", msg: "completion takes the shell: bash, zsh or fish"}
	}
	// Every command but completion itself: it would build this list again.
	var cmds []*command
	for _, n := range []string{"import", "validate", "sandbox", "presets", "undo", "report"} {
		cmds = append(cmds, e.command(n))
	}
	switch args[0] {
	case "bash":
		writeBash(e.stdout, cmds)
	case "zsh":
		io.WriteString(e.stdout, "autoload -U +X bashcompinit && bashcompinit\n")
		writeBash(e.stdout, cmds)
	case "fish":
		writeFish(e.stdout, cmds)
	default:
		return &usageError{cmd: "completion", msg: fmt.Sprintf("completion takes bash, zsh or fish (got %q)", args[0])}
	}
	return nil
}

func commandWords(cmds []*command) string {
	words := []string{"help", "version", "completion"}
	for _, c := range cmds {
		words = append(words, c.name)
	}
	return strings.Join(words, " ")
}

func writeBash(w io.Writer, cmds []*command) {
	fmt.Fprintf(w, `_userimport() {
  local cur=${COMP_WORDS[COMP_CWORD]} flags=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur")); return
  fi
  case ${COMP_WORDS[1]} in
`, commandWords(cmds))
	for _, c := range cmds {
		var flags []string
		c.flags.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden { // a flag kept only to be refused with advice
				flags = append(flags, "--"+f.Name)
			}
		})
		fmt.Fprintf(w, "    %s) flags=%q ;;\n", c.name, strings.Join(append(flags, "--help"), " "))
	}
	fmt.Fprint(w, `    help) COMPREPLY=($(compgen -W "import validate sandbox presets undo report completion" -- "$cur")); return ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _userimport userimport
`)
}

func writeFish(w io.Writer, cmds []*command) {
	fmt.Fprintf(w, "complete -c userimport -f -n __fish_use_subcommand -a %q\n", commandWords(cmds))
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c userimport -n '__fish_seen_subcommand_from %s' -F\n", c.name)
		c.flags.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			desc := strings.ReplaceAll(f.Usage, "`", "")
			fmt.Fprintf(w, "complete -c userimport -n '__fish_seen_subcommand_from %s' -l %s -d %s\n", c.name, f.Name, fishQuote(desc))
		})
	}
	fmt.Fprintln(w, "complete -c userimport -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'")
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
