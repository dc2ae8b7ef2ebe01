package pacer

import (
	"context"
	"testing"
)

// BenchmarkWaitUnlimited is the pacer's own overhead per call: lock, gate check, reservation.
func BenchmarkWaitUnlimited(b *testing.B) {
	p := New(Config{})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
			p.Success()
		}
	})
}

// BenchmarkWaitHighRate adds real spacing at a rate no import reaches (1M req/s).
func BenchmarkWaitHighRate(b *testing.B) {
	p := New(Config{Rate: 1e6, Burst: 100})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
