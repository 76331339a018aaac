package entitlement

import (
	"testing"
)

// BenchmarkExecute measures one administrative command end to end:
// authorize, decide, encode, append to a memstore, read back and apply.
func BenchmarkExecute(b *testing.B) {
	w := adminWorld(b)
	ga := w.actors["GA"]
	b.ResetTimer()
	for i := range b.N {
		name := "n" + itoa(i)
		if _, err := w.m.Execute(w.ctx, ga, UpdateAccessPackage{AccessPackageID: w.id["P1"], DisplayName: &name}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay measures starting a Manager on a log of about 1,000
// administrative events.
func BenchmarkReplay(b *testing.B) {
	w := adminWorld(b)
	ga := w.actors["GA"]
	for i := range 1000 {
		name := "n" + itoa(i)
		w.do(ga, UpdateAccessPackage{AccessPackageID: w.id["P1"], DisplayName: &name})
	}
	b.ResetTimer()
	for range b.N {
		if _, err := NewManager(w.ctx, w.store, Options{Clock: w.clock}); err != nil {
			b.Fatal(err)
		}
	}
}
