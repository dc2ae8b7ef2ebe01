package source

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

func benchInput(f Format, rows int) []byte {
	var b bytes.Buffer
	switch f {
	case CSV:
		b.WriteString("id,email,first_name,last_name,password_digest,created_at\n")
		for i := range rows {
			fmt.Fprintf(&b, "u%d,user%d@example.com,First,\"Last, Jr\",$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz012,2020-01-02T03:04:05Z\n", i, i)
		}
	case JSONL, JSON:
		if f == JSON {
			b.WriteString("[\n")
		}
		for i := range rows {
			if f == JSON && i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `{"external_id":"u%d","email_address":["user%d@example.com"],"first_name":"First","last_name":"Last"}`, i, i)
			if f == JSONL {
				b.WriteByte('\n')
			}
		}
		if f == JSON {
			b.WriteString("\n]\n")
		}
	}
	return b.Bytes()
}

func BenchmarkRead(b *testing.B) {
	for _, f := range []Format{CSV, JSONL, JSON, ""} {
		name, opts := string(f), Options{Format: f}
		if f == "" {
			name, f = "csv-sniffed", CSV // the format, gzip, encoding and delimiter all found by Open
		}
		in := benchInput(f, 10_000)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				r, err := Open(bytes.NewReader(in), opts)
				if err != nil {
					b.Fatal(err)
				}
				for {
					rec, err := r.Next(context.Background())
					if err == io.EOF {
						break
					}
					if err != nil || rec.Err != nil {
						b.Fatal(err, rec.Err)
					}
				}
			}
		})
	}
}
