package entitlement

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeAssignmentPolicy checks that the strict decoder never panics,
// that every rejection is ErrInvalid with an *InvalidError, and that every
// accepted policy re-encodes to JSON that decodes to an equal policy.
func FuzzDecodeAssignmentPolicy(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "policies", "*.json"))
	require.NoError(f, err)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"displayName":"p","allowedTargetScope":"allMemberUsers"}`,
		`{"displayName":"p","allowedTargetScope":"allMemberUsers","expiration":{"type":"afterDuration","duration":"P1Y2M3DT4H5M6.5S"}}`,
		`{"displayName":"p","allowedTargetScope":"allMemberUsers","createdDateTime":"2026-01-01T00:30:00+01:00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeAssignmentPolicy(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("error has no *InvalidError: %v", err)
			}
			return
		}
		require.NoError(t, p.Validate())
		out, err := json.Marshal(p)
		require.NoError(t, err)
		again, err := DecodeAssignmentPolicy(out)
		require.NoError(t, err, "re-decoding %s", out)
		require.Equal(t, p, again)
		require.Equal(t, p, p.Clone())
		out2, err := json.Marshal(again)
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2))
	})
}

// FuzzParseDuration checks that ParseDuration never panics, rejects with
// ErrInvalid, and keeps the text of what it accepts.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"P14D", "PT4H", "P1DT12H", "P3W", "P1Y2M", "PT30M", "PT0S", "PT1.5S", "P", "-P1D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("String() = %q, want %q", d.String(), s)
		}
		if d.Approx() < 0 {
			t.Fatalf("negative length %v for %q", d.Approx(), s)
		}
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var back Duration
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, d, back)
	})
}
