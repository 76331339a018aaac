//go:build !race

package storetest

// raceEnabled reports whether the race detector is on; it makes heap
// measurements meaningless.
const raceEnabled = false
