package entitlement

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in                   string
		years, months, days  int
		clock                time.Duration
		approx               time.Duration
		calendar             bool
		wantApproxIsNotExact bool
	}{
		{in: "P14D", days: 14, approx: 14 * 24 * time.Hour},
		{in: "PT4H", clock: 4 * time.Hour, approx: 4 * time.Hour},
		{in: "P1DT12H", days: 1, clock: 12 * time.Hour, approx: 36 * time.Hour},
		{in: "P3W", days: 21, approx: 21 * 24 * time.Hour},
		{in: "P1Y2M", years: 1, months: 2, calendar: true, wantApproxIsNotExact: true},
		{in: "PT30M", clock: 30 * time.Minute, approx: 30 * time.Minute},
		{in: "PT0S", approx: 0},
		{in: "P0D", approx: 0},
		{in: "PT1.5S", clock: 1500 * time.Millisecond, approx: 1500 * time.Millisecond},
		{in: "PT0,25S", clock: 250 * time.Millisecond, approx: 250 * time.Millisecond},
		{in: "P1W2D", days: 9, approx: 9 * 24 * time.Hour},
		{in: "P1Y2M3DT4H5M6S", years: 1, months: 2, days: 3, clock: 4*time.Hour + 5*time.Minute + 6*time.Second, calendar: true, wantApproxIsNotExact: true},
		{in: "P3660D", days: 3660, approx: 3660 * 24 * time.Hour},
		{in: "PT36H", clock: 36 * time.Hour, approx: 36 * time.Hour},
		{in: "P007D", days: 7, approx: 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDuration(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.in, d.String())
			assert.False(t, d.IsZero())
			y, m, dd, c := d.Parts()
			assert.Equal(t, tt.years, y)
			assert.Equal(t, tt.months, m)
			assert.Equal(t, tt.days, dd)
			assert.Equal(t, tt.clock, c)
			assert.Equal(t, tt.calendar, d.IsCalendar())
			if !tt.wantApproxIsNotExact {
				assert.Equal(t, tt.approx, d.Approx())
			}
			assert.Equal(t, d, MustParseDuration(tt.in))
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	for _, in := range []string{
		"", "P", "PT", "14D", "p14d", "-P1D", "+P1D", "P1H", "PT1D", "P1DT", "P1.5D", "PT1.5H",
		"P1D1D", "P1M1Y", "PT1S1M", "P1DT1H1H", "PTT1H", "P1", "PT1", "P1X", "PT1.S",
		"PT1.1234567890S", "P1234567890123D", "P10001Y", "P9999999999D", "PT9223372036854775807S",
		"P1D ", " P1D", "P１D", "PT0.5", "P1DT2H3M4S5",
	} {
		t.Run(in, func(t *testing.T) {
			d, err := ParseDuration(in)
			require.Error(t, err)
			assert.True(t, d.IsZero())
			assert.ErrorIs(t, err, ErrInvalid)
			var de *DurationError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, in, de.Text)
			assert.NotEmpty(t, de.Reason)
		})
	}
	assert.Panics(t, func() { MustParseDuration("nope") })
}

func TestDurationAddTo(t *testing.T) {
	base := time.Date(2026, time.January, 31, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		from time.Time
		want time.Time
	}{
		{"P14D", base, time.Date(2026, time.February, 14, 10, 0, 0, 0, time.UTC)},
		{"PT4H", base, base.Add(4 * time.Hour)},
		{"P1DT12H", base, time.Date(2026, time.February, 1, 22, 0, 0, 0, time.UTC)},
		{"P3W", base, time.Date(2026, time.February, 21, 10, 0, 0, 0, time.UTC)},
		// Calendar units follow AddDate: 31 January + 1 month normalises to 3 March.
		{"P1M", base, time.Date(2026, time.March, 3, 10, 0, 0, 0, time.UTC)},
		{"P1Y2M", time.Date(2025, time.March, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, time.May, 15, 0, 0, 0, 0, time.UTC)},
		{"P1Y", time.Date(2024, time.February, 29, 0, 0, 0, 0, time.UTC), time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)},
		{"PT30M", base, base.Add(30 * time.Minute)},
		{"PT0S", base, base},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d := MustParseDuration(tt.in)
			assert.True(t, tt.want.Equal(d.AddTo(tt.from)), "got %v want %v", d.AddTo(tt.from), tt.want)
			assert.Equal(t, tt.want.Sub(tt.from), d.LengthAt(tt.from))
		})
	}
	// Days are exact 24 hours even across a daylight-saving change.
	ny, err := time.LoadLocation("America/New_York")
	if err == nil {
		start := time.Date(2026, time.March, 7, 12, 0, 0, 0, ny)
		assert.Equal(t, 24*time.Hour, MustParseDuration("P1D").LengthAt(start))
	}
	// The zero Duration adds nothing.
	assert.Equal(t, base, Duration{}.AddTo(base))
}

func TestDurationCompare(t *testing.T) {
	p4d := MustParseDuration("P4D")
	assert.True(t, p4d.AtLeast(4*24*time.Hour))
	assert.True(t, p4d.AtMost(4*24*time.Hour))
	assert.False(t, MustParseDuration("P3DT23H").AtLeast(4*24*time.Hour))
	assert.Equal(t, 0, MustParseDuration("P1D").Compare(MustParseDuration("PT24H")))
	assert.Equal(t, -1, MustParseDuration("P6D").Compare(MustParseDuration("P1W")))
	assert.Equal(t, 1, MustParseDuration("P1M").Compare(MustParseDuration("P30D")))
	assert.Equal(t, -1, MustParseDuration("P1M").Compare(MustParseDuration("P31D")))
	assert.Equal(t, 1, MustParseDuration("P10Y").Compare(MustParseDuration("P3652D")))
	assert.True(t, MustParseDuration("P10Y").AtMost(MaxExpirationDays*24*time.Hour))
	assert.False(t, MustParseDuration("P11Y").AtMost(MaxExpirationDays*24*time.Hour))
	assert.Equal(t, 0, Duration{}.Compare(MustParseDuration("PT0S")))
	// Years and months use the mean Gregorian lengths.
	assert.Equal(t, time.Duration(365.2425*24*float64(time.Hour)), MustParseDuration("P1Y").Approx())
	assert.Equal(t, MustParseDuration("P1Y").Approx(), MustParseDuration("P12M").Approx())
	// Huge values saturate instead of overflowing.
	assert.Greater(t, MustParseDuration("P10000Y120000M").Approx(), time.Duration(0))
}

func TestDurationConstructors(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{-time.Hour, "PT0S"},
		{14 * 24 * time.Hour, "P14D"},
		{4 * time.Hour, "PT4H"},
		{36 * time.Hour, "P1DT12H"},
		{30 * time.Minute, "PT30M"},
		{90 * time.Second, "PT1M30S"},
		{1500 * time.Millisecond, "PT1.5S"},
		{24*time.Hour + time.Second, "P1DT1S"},
	}
	for _, tt := range tests {
		got := DurationOf(tt.d)
		assert.Equal(t, tt.want, got.String(), "DurationOf(%v)", tt.d)
		parsed := MustParseDuration(tt.want)
		assert.Equal(t, parsed, got, "DurationOf(%v) equals ParseDuration(%q)", tt.d, tt.want)
	}
	assert.Equal(t, MustParseDuration("P30D"), DurationDays(30))
	assert.Equal(t, MustParseDuration("P0D"), DurationDays(-2))
}

func TestDurationJSON(t *testing.T) {
	type holder struct {
		D Duration  `json:"d,omitzero"`
		P *Duration `json:"p,omitempty"`
	}
	b, err := json.Marshal(holder{D: MustParseDuration("P1DT12H")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"d":"P1DT12H"}`, string(b))

	b, err = json.Marshal(holder{})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(b))

	b, err = json.Marshal(Duration{})
	require.NoError(t, err)
	assert.Equal(t, "null", string(b))

	var h holder
	require.NoError(t, json.Unmarshal([]byte(`{"d":"P3W","p":"PT0S"}`), &h))
	assert.Equal(t, MustParseDuration("P3W"), h.D)
	require.NotNil(t, h.P)
	assert.Equal(t, "PT0S", h.P.String())

	h = holder{D: MustParseDuration("P1D")}
	require.NoError(t, json.Unmarshal([]byte(`{"d":null}`), &h))
	assert.True(t, h.D.IsZero())

	for _, bad := range []string{`{"d":"P"}`, `{"d":14}`, `{"d":"P1X"}`} {
		err := json.Unmarshal([]byte(bad), &h)
		require.Error(t, err, bad)
		assert.True(t, errors.Is(err, ErrInvalid), bad)
	}
}
