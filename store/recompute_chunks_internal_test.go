package store

import (
	"testing"
	"time"
)

// A chunk grows towards the time target and shrinks from a slow one, at
// most by half or double at a time, within its bounds.
func TestNextChunkFollowsTheTarget(t *testing.T) {
	target := 40 * time.Millisecond
	for _, c := range []struct {
		size int
		took time.Duration
		want int
	}{
		{500, 10 * time.Millisecond, 1000},     // fast: at most double
		{500, 30 * time.Millisecond, 666},      // a little fast: scaled
		{1000, 80 * time.Millisecond, 500},     // slow: scaled down
		{1000, 2 * time.Second, 500},           // one stall: only halved
		{chunkMin, time.Second, chunkMin},      // never below the minimum
		{chunkMax, time.Millisecond, chunkMax}, // nor above the maximum
		{800, 0, 1600},                         // nothing measured: grow
	} {
		if got := nextChunk(c.size, c.took, target); got != c.want {
			t.Errorf("nextChunk(%d, %s) = %d, want %d", c.size, c.took, got, c.want)
		}
	}
}
