package entitlement

import (
	"iter"
	"slices"
	"time"
)

// Occurrences of a patternedRecurrence, as access reviews use them: the
// instants, in UTC, at the time of day of the schedule's start, from the
// start on, as the pattern (type, interval, daysOfWeek, dayOfMonth, month,
// index, firstDayOfWeek) and the range (noEnd, endDate, numbered) say.

var weekdays = map[DayOfWeek]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// maxOccurrenceScan bounds the periods scanned for occurrences: a guard,
// so that a pattern that could match no day would still end (validation
// lets none through today).
const maxOccurrenceScan = 100_000

// occurrences yields the instants of r from start on, in order.
func (r PatternedRecurrence) occurrences(start time.Time) iter.Seq[time.Time] {
	start = start.UTC()
	p := r.Pattern
	interval := max(p.Interval, 1)
	clock := start.Sub(dayOf(start))
	days := p.DaysOfWeek
	if len(days) == 0 {
		days = []DayOfWeek{dayName(start.Weekday())}
	}
	return func(yield func(time.Time) bool) {
		n := 0
		var end time.Time
		if r.Range.Type == RangeEndDate {
			if d, err := time.Parse(time.DateOnly, r.Range.EndDate); err == nil {
				end = d.AddDate(0, 0, 1)
			}
		}
		emit := func(t time.Time) bool {
			if t.Before(start) {
				return true
			}
			if !end.IsZero() && !t.Before(end) {
				return false
			}
			if r.Range.Type == RangeNumbered && n >= r.Range.NumberOfOccurrences {
				return false
			}
			n++
			return yield(t)
		}
		for k := 0; k < maxOccurrenceScan; k++ {
			var period []time.Time
			switch p.Type {
			case RecurrenceDaily:
				period = []time.Time{dayOf(start).AddDate(0, 0, k*interval)}
			case RecurrenceWeekly:
				first := weekdays[p.FirstDayOfWeek]
				if p.FirstDayOfWeek == "" {
					first = time.Sunday
				}
				week := dayOf(start).AddDate(0, 0, -int((start.Weekday()-first+7)%7)+7*k*interval)
				for _, d := range days {
					period = append(period, week.AddDate(0, 0, int((weekdays[d]-first+7)%7)))
				}
			case RecurrenceAbsoluteMonthly, RecurrenceRelativeMonthly:
				month := time.Date(start.Year(), start.Month()+time.Month(k*interval), 1, 0, 0, 0, 0, time.UTC)
				period = dayInMonth(p, month, start, days)
			case RecurrenceAbsoluteYearly, RecurrenceRelativeYearly:
				m := time.Month(p.Month)
				if m == 0 {
					m = start.Month()
				}
				month := time.Date(start.Year()+k*interval, m, 1, 0, 0, 0, 0, time.UTC)
				period = dayInMonth(p, month, start, days)
			default:
				return
			}
			slices.SortFunc(period, func(a, b time.Time) int { return a.Compare(b) })
			for _, d := range period {
				if !emit(d.Add(clock)) {
					return
				}
			}
		}
	}
}

// dayInMonth returns the days of month the pattern picks: dayOfMonth (or
// the start's, cut to the month's length) for the absolute types, the
// index-th of each day of the week for the relative ones.
func dayInMonth(p RecurrencePattern, month, start time.Time, days []DayOfWeek) []time.Time {
	last := month.AddDate(0, 1, -1).Day()
	if p.Type == RecurrenceAbsoluteMonthly || p.Type == RecurrenceAbsoluteYearly {
		d := p.DayOfMonth
		if d == 0 {
			d = start.Day()
		}
		return []time.Time{month.AddDate(0, 0, min(d, last)-1)}
	}
	var out []time.Time
	for _, wd := range days {
		first := month.AddDate(0, 0, int((weekdays[wd]-month.Weekday()+7)%7))
		var d time.Time
		switch p.Index {
		case "", "first":
			d = first
		case "second":
			d = first.AddDate(0, 0, 7)
		case "third":
			d = first.AddDate(0, 0, 14)
		case "fourth":
			d = first.AddDate(0, 0, 21)
		case "last":
			d = first.AddDate(0, 0, 28)
			for d.Month() != month.Month() {
				d = d.AddDate(0, 0, -7)
			}
		}
		if d.Month() == month.Month() {
			out = append(out, d)
		}
	}
	return out
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func dayName(d time.Weekday) DayOfWeek {
	for name, wd := range weekdays {
		if wd == d {
			return name
		}
	}
	return ""
}

// nextOccurrence returns the first occurrence of r from start on that is
// at or after from, and its 1-based number. A range's startDate later than
// start moves the first occurrence to that date, at start's time of day.
func (r PatternedRecurrence) nextOccurrence(start, from time.Time) (time.Time, int, bool) {
	start = start.UTC()
	if d, err := time.Parse(time.DateOnly, r.Range.StartDate); err == nil {
		if t := d.Add(start.Sub(dayOf(start))); t.After(start) {
			start = t
		}
	}
	n := 0
	for t := range r.occurrences(start) {
		n++
		if !t.Before(from) {
			return t, n, true
		}
	}
	return time.Time{}, 0, false
}
