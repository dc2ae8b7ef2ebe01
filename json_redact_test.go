package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// --json names a database SOURCE without its password, even when the read fails.
func TestJSONInputRedactsDatabasePassword(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"validate", "--json", "--query", "select 1", "postgres://u:s3cr3t-pw@127.0.0.1:1/db"}
	run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	if strings.Contains(out.String()+errb.String(), "s3cr3t-pw") {
		t.Fatalf("the password is in the output:\n%s\n%s", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), `"input": "postgres://***@127.0.0.1:1/db"`) {
		t.Fatalf("--json does not name the redacted source:\n%s", out.String())
	}
}
