package eventstore

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// appendTime is a faster t.UTC().AppendFormat(b, TimeLayout); it must write
// the same bytes for every instant a log can hold.
func TestAppendTimeMatchesAppendFormat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ns := rapid.Int64().Draw(t, "unixNano")
		zone := time.FixedZone("z", rapid.IntRange(-14*3600, 14*3600).Draw(t, "offset"))
		tm := time.Unix(0, ns).In(zone)
		want := tm.UTC().AppendFormat(nil, TimeLayout)
		if got := appendTime(nil, tm); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	})
}
