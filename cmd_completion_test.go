package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestCompletion(t *testing.T) {
	cli, _ := quietCLI(t, "")
	bash := cli("completion", "bash")
	if bash.code != 0 {
		t.Fatalf("completion bash: exit %d, %s", bash.code, bash.stderr)
	}
	for _, want := range []string{"complete -o default -F _userimport userimport", "import validate sandbox presets undo report"} {
		if !strings.Contains(bash.stdout, want) {
			t.Errorf("bash script lacks %q", want)
		}
	}
	// Each command completes its own flags: validate does not offer import's --out.
	for _, line := range strings.Split(bash.stdout, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "import)"):
			if !strings.Contains(line, "--rate ") || !strings.Contains(line, "--out ") {
				t.Errorf("import's flags: %s", line)
			}
		case strings.HasPrefix(line, "validate)"):
			if !strings.Contains(line, "--preset ") || strings.Contains(line, "--out ") {
				t.Errorf("validate's flags: %s", line)
			}
		}
	}
	if sh, err := exec.LookPath("bash"); err == nil {
		cmd := exec.Command(sh, "-n")
		cmd.Stdin = strings.NewReader(bash.stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v: %s", err, out)
		}
	} else {
		t.Log("no bash on PATH: the script's syntax is not checked")
	}
	if zsh := cli("completion", "zsh"); zsh.code != 0 || !strings.HasPrefix(zsh.stdout, "autoload -U +X bashcompinit") {
		t.Errorf("zsh: exit %d, %.60q", zsh.code, zsh.stdout)
	}
	fish := cli("completion", "fish")
	if fish.code != 0 || !strings.Contains(fish.stdout, "-n '__fish_seen_subcommand_from import' -l rate -d ") {
		t.Errorf("fish: exit %d, script lacks import's --rate:\n%s", fish.code, fish.stdout)
	}
}
