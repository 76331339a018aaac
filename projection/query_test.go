package projection

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeAll decodes lists short enough for one goroutine and long
// enough for several, in order, and reports a bad object wherever it is.
func TestDecodeAll(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // the parallel path, on any machine
	type obj struct {
		N int `json:"n"`
	}
	for _, n := range []int{0, 1, 63, 64, 127, 128, 129, 1000, 5001} {
		datas := make([][]byte, n)
		for i := range datas {
			datas[i] = fmt.Appendf(nil, `{"n":%d}`, i)
		}
		got, err := decodeAll[obj](datas)
		require.NoError(t, err, n)
		require.Len(t, got, n)
		for i, o := range got {
			require.Equal(t, i, o.N, "list of %d", n)
		}
		for _, bad := range []int{0, n / 2, n - 1} {
			if n == 0 {
				continue
			}
			datas[bad] = []byte(`{"n":`)
			_, err := decodeAll[obj](datas)
			require.Error(t, err, "list of %d, bad object at %d", n, bad)
			datas[bad] = fmt.Appendf(nil, `{"n":%d}`, bad)
		}
	}
}
