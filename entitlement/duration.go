package entitlement

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Duration is an ISO-8601 duration as Microsoft Graph writes its Edm.Duration
// properties (expirationPattern.duration,
// accessPackageApprovalStage.durationBeforeAutomaticDenial,
// accessPackageAutomaticRequestSettings.gracePeriodBeforeAccessRemoval …):
// "P14D", "PT4H", "P1DT12H", "P3W", "P1Y2M", "PT30M", "PT0S".
//
// A Duration keeps the text it was parsed from, so it round-trips through
// JSON unchanged, and knows its parts: years and months are calendar units
// (added with time.Time.AddDate), weeks, days, hours, minutes and seconds
// are exact (a day is 24 hours). The zero value means "absent" and encodes
// as JSON null; "PT0S" is a present duration of length zero.
//
// Durations are comparable with ==, which compares the text: "P1D" and
// "PT24H" are different values of equal length.
type Duration struct {
	iso    string
	years  int
	months int
	days   int           // weeks are folded in as 7 days
	clock  time.Duration // hours, minutes and seconds
}

// DurationError is the error of ParseDuration. It matches ErrInvalid with
// errors.Is.
type DurationError struct {
	Text   string // the text that failed to parse
	Reason string // what is wrong with it
}

// Error returns a sentence naming the text and the reason.
func (e *DurationError) Error() string {
	return fmt.Sprintf("invalid ISO-8601 duration %q: %s", e.Text, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) hold for a *DurationError.
func (e *DurationError) Is(target error) bool { return target == ErrInvalid }

// Limits of what ParseDuration accepts, far above any policy cap; they keep
// the arithmetic free of overflow.
const (
	maxDurationYears  = 10000
	maxDurationMonths = 12 * maxDurationYears
)

// ParseDuration parses an ISO-8601 duration of the form
// P[nY][nM][nW][nD][T[nH][nM][n[.f]S]]. Only the seconds may carry a
// fraction (up to nanoseconds). Letters are upper case; negative durations
// and empty designators ("P", "PT") are rejected. Errors are *DurationError.
func ParseDuration(s string) (Duration, error) {
	bad := func(format string, args ...any) (Duration, error) {
		return Duration{}, &DurationError{Text: s, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return bad("empty")
	}
	if s[0] == '-' || s[0] == '+' {
		return bad("signed durations are not supported")
	}
	if s[0] != 'P' {
		return bad("must start with 'P'")
	}
	d := Duration{iso: s}
	var (
		rest     = s[1:]
		inTime   bool
		seen     int // number of components read
		order    = "YMWD"
		torder   = "HMS"
		lastDate = -1
		lastTime = -1
		exact    time.Duration // days and clock, for the overflow check
	)
	addExact := func(n int64, unit time.Duration) bool {
		if n > int64(math.MaxInt64)/int64(unit) {
			return false
		}
		v := time.Duration(n) * unit
		if exact > math.MaxInt64-v {
			return false
		}
		exact += v
		return true
	}
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("'T' appears twice")
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return bad("'T' must be followed by hours, minutes or seconds")
			}
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return bad("expected a number at %q", rest)
		}
		digits := rest[:i]
		frac := ""
		if i < len(rest) && (rest[i] == '.' || rest[i] == ',') {
			j := i + 1
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			frac = rest[i+1 : j]
			if frac == "" {
				return bad("expected digits after the decimal mark")
			}
			if len(frac) > 9 {
				return bad("more than 9 fractional digits")
			}
			i = j
		}
		if i >= len(rest) {
			return bad("number %q has no unit designator", digits)
		}
		unit := rest[i]
		rest = rest[i+1:]
		if len(digits) > 12 {
			return bad("number %q is too large", digits)
		}
		var n int64
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		if frac != "" && (!inTime || unit != 'S') {
			return bad("only seconds may have a fraction")
		}
		if !inTime {
			k := strings.IndexByte(order, unit)
			if k < 0 {
				return bad("unknown date designator %q", unit)
			}
			if k <= lastDate {
				return bad("designator %q out of order or repeated", unit)
			}
			lastDate = k
			switch unit {
			case 'Y':
				if n > maxDurationYears {
					return bad("too many years")
				}
				d.years = int(n)
			case 'M':
				if n > maxDurationMonths {
					return bad("too many months")
				}
				d.months = int(n)
			case 'W':
				if !addExact(n, 7*24*time.Hour) {
					return bad("too long")
				}
				d.days += int(n) * 7
			case 'D':
				if !addExact(n, 24*time.Hour) {
					return bad("too long")
				}
				d.days += int(n)
			}
		} else {
			k := strings.IndexByte(torder, unit)
			if k < 0 {
				return bad("unknown time designator %q", unit)
			}
			if k <= lastTime {
				return bad("designator %q out of order or repeated", unit)
			}
			lastTime = k
			var u time.Duration
			switch unit {
			case 'H':
				u = time.Hour
			case 'M':
				u = time.Minute
			case 'S':
				u = time.Second
			}
			if !addExact(n, u) {
				return bad("too long")
			}
			d.clock += time.Duration(n) * u
			if frac != "" {
				f := frac + strings.Repeat("0", 9-len(frac))
				var ns int64
				for _, c := range f {
					ns = ns*10 + int64(c-'0')
				}
				if !addExact(ns, time.Nanosecond) {
					return bad("too long")
				}
				d.clock += time.Duration(ns)
			}
		}
		seen++
	}
	if seen == 0 {
		return bad("no components")
	}
	if inTime && lastTime < 0 {
		return bad("'T' must be followed by hours, minutes or seconds")
	}
	return d, nil
}

// MustParseDuration is ParseDuration for constants; it panics on error.
func MustParseDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DurationOf returns the exact duration d in ISO-8601 form, using days,
// hours, minutes and seconds ("P14D", "PT4H", "P1DT12H", "PT0S"). A
// negative d gives "PT0S".
func DurationOf(d time.Duration) Duration {
	if d < 0 {
		d = 0
	}
	out := Duration{}
	days := int64(d / (24 * time.Hour))
	rem := d - time.Duration(days)*24*time.Hour
	out.days = int(days)
	out.clock = rem
	var b strings.Builder
	b.WriteByte('P')
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if rem > 0 || days == 0 {
		b.WriteByte('T')
		h := rem / time.Hour
		rem -= h * time.Hour
		m := rem / time.Minute
		rem -= m * time.Minute
		if h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if rem > 0 || (h == 0 && m == 0) {
			sec := rem / time.Second
			ns := rem - sec*time.Second
			if ns == 0 {
				fmt.Fprintf(&b, "%dS", sec)
			} else {
				f := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
				fmt.Fprintf(&b, "%d.%sS", sec, f)
			}
		}
	}
	out.iso = b.String()
	return out
}

// DurationDays returns the duration of n whole days, "PnD" (n < 0 gives
// "P0D").
func DurationDays(n int) Duration {
	if n < 0 {
		n = 0
	}
	return Duration{iso: fmt.Sprintf("P%dD", n), days: n}
}

// String returns the ISO-8601 text, or "" for the zero (absent) Duration.
func (d Duration) String() string { return d.iso }

// IsZero reports whether d is absent. A present duration of length zero,
// such as "PT0S", is not zero.
func (d Duration) IsZero() bool { return d.iso == "" }

// Parts returns the calendar part (years, months) and the exact part
// (days, including weeks, and the hours-minutes-seconds clock) of d.
func (d Duration) Parts() (years, months, days int, clock time.Duration) {
	return d.years, d.months, d.days, d.clock
}

// IsCalendar reports whether d has years or months, whose length depends on
// the instant it is added to.
func (d Duration) IsCalendar() bool { return d.years != 0 || d.months != 0 }

// AddTo returns t plus d: years and months are added with t.AddDate (so
// P1M from 31 January normalises as AddDate does), then days and the clock
// are added as exact 24-hour days and elapsed time. An absent d returns t.
func (d Duration) AddTo(t time.Time) time.Time {
	if d.years != 0 || d.months != 0 {
		t = t.AddDate(d.years, d.months, 0)
	}
	return t.Add(time.Duration(d.days)*24*time.Hour + d.clock)
}

// LengthAt returns the exact length of d when added to t,
// d.AddTo(t).Sub(t).
func (d Duration) LengthAt(t time.Time) time.Duration { return d.AddTo(t).Sub(t) }

// Mean lengths of the Gregorian calendar, used by Approx.
const (
	meanYear  = 365.2425 * 24 * float64(time.Hour)
	meanMonth = meanYear / 12
)

// Approx returns the length of d with years and months at their mean
// Gregorian lengths (365.2425 days and a twelfth of that); days, hours,
// minutes and seconds are exact. The result saturates at the largest
// time.Duration.
//
// Validation uses Approx, not LengthAt: a policy is checked without a
// clock, so "at least 4 days" or "at most 3660 days" must not depend on the
// day the check runs. Only durations with years or months are affected, and
// by at most a few days.
func (d Duration) Approx() time.Duration {
	f := float64(d.years)*meanYear + float64(d.months)*meanMonth +
		float64(d.days)*24*float64(time.Hour) + float64(d.clock)
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(f)
}

// Compare compares the Approx lengths of d and e: -1 if d is shorter, 0 if
// equal, +1 if longer. An absent Duration compares as zero length.
func (d Duration) Compare(e Duration) int {
	a, b := d.Approx(), e.Approx()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AtLeast reports whether d.Approx() >= x.
func (d Duration) AtLeast(x time.Duration) bool { return d.Approx() >= x }

// AtMost reports whether d.Approx() <= x.
func (d Duration) AtMost(x time.Duration) bool { return d.Approx() <= x }

// MarshalJSON encodes d as its ISO-8601 string, or null when absent.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d.iso == "" {
		return []byte("null"), nil
	}
	return json.Marshal(d.iso)
}

// UnmarshalJSON decodes an ISO-8601 string; null gives the zero Duration.
// Errors match ErrInvalid.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Duration{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &DurationError{Text: string(b), Reason: "must be a JSON string"}
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
