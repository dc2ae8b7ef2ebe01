package testdb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/internal/fixtures"
)

// Insert writes the fixture rows into table as the source's own adapter would, leaving out the
// skip columns (generated ones). No rows fails the test: it would prove nothing.
func (d *DB) Insert(t testing.TB, table string, rows []fixtures.Row, skip ...string) {
	t.Helper()
	if len(rows) == 0 {
		t.Fatalf("no %s rows in the data set: the test would prove nothing", table)
	}
	for _, r := range rows {
		var cols, ph []string
		var args []any
		for i, c := range r.Columns {
			if slices.Contains(skip, c) {
				continue
			}
			v := r.Values[i]
			switch x := v.(type) {
			case fixtures.Timestamp:
				v = time.Time(x)
			case map[string]any:
				b, _ := json.Marshal(x)
				v = string(b)
			}
			if tm, ok := v.(time.Time); ok && d.Dialect == "sqlite" {
				v = tm.UTC().Format("2006-01-02T15:04:05.000Z") // the ISO text Better Auth's SQLite adapter writes
			}
			cols = append(cols, `"`+c+`"`)
			args = append(args, v)
			if d.Dialect == "postgres" {
				ph = append(ph, fmt.Sprintf("$%d", len(args)))
			} else {
				ph = append(ph, "?")
			}
		}
		q := "insert into " + table + " (" + strings.Join(cols, ", ") + ") values (" + strings.Join(ph, ", ") + ")"
		if d.Dialect == "mysql" {
			q = strings.ReplaceAll(q, `"`, "`")
		}
		if err := d.Exec(q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
}
