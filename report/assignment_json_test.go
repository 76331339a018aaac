package report

import (
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/accessledger/accessledger/entitlement"
)

// TestAppendJSONIsMarshal holds the hand-written encoding of assignments
// to what json.Marshal writes, for random assignments.
func TestAppendJSONIsMarshal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		str := rapid.OneOf(rapid.StringMatching(`[a-z0-9-]{0,12}`), rapid.String(), rapid.SampledFrom([]string{"<b>&", "a\"b\\c", "é", "\u2028", "\xff"}))
		at := func(label string) time.Time {
			zone := rapid.SampledFrom([]*time.Location{time.UTC, time.FixedZone("x", 3600*rapid.IntRange(-12, 12).Draw(t, label+"-zone"))}).Draw(t, label+"-loc")
			return time.Unix(rapid.Int64Range(0, 1e10).Draw(t, label), rapid.Int64Range(0, 999999999).Draw(t, label+"-ns")).In(zone)
		}
		maybe := func(label string) *time.Time {
			if rapid.Bool().Draw(t, label+"?") {
				x := at(label)
				return &x
			}
			return nil
		}
		a := entitlement.Assignment{ID: str.Draw(t, "id"), State: str.Draw(t, "state"), Status: str.Draw(t, "status"),
			ExpiredDateTime: maybe("expired"), CreatedDateTime: at("created"), AccessPackageID: str.Draw(t, "pkg"),
			AssignmentPolicyID: str.Draw(t, "pol"), TargetID: str.Draw(t, "target"), RequestID: str.Draw(t, "req"),
			ExtendedDateTime: maybe("extended"), FourteenDayNoticeSent: rapid.Bool().Draw(t, "14"), OneDayNoticeSent: rapid.Bool().Draw(t, "1")}
		if rapid.Bool().Draw(t, "start?") {
			a.Schedule.StartDateTime = at("start")
		}
		if rapid.Bool().Draw(t, "expiration?") {
			a.Schedule.Expiration.Type = entitlement.ExpirationPatternType(str.Draw(t, "type"))
			if rapid.Bool().Draw(t, "end?") {
				a.Schedule.Expiration.EndDateTime = at("end")
			}
			if rapid.Bool().Draw(t, "duration?") {
				a.Schedule.Expiration.Duration = entitlement.DurationDays(rapid.IntRange(1, 365).Draw(t, "days"))
			}
		}
		if rapid.Bool().Draw(t, "recurrence?") {
			a.Schedule.Recurrence.Range.NumberOfOccurrences = rapid.IntRange(1, 9).Draw(t, "occurrences")
		}
		for range rapid.IntRange(0, 3).Draw(t, "resources") {
			a.Resources = append(a.Resources, entitlement.ResourceDelivery{ResourceRoleScopeID: str.Draw(t, "rrs"), ResourceID: str.Draw(t, "res"),
				OriginSystem: str.Draw(t, "os"), OriginID: str.Draw(t, "oid"), RoleID: str.Draw(t, "role"), RoleOriginID: str.Draw(t, "roid"),
				ScopeID: str.Draw(t, "scope"), ScopeOriginID: str.Draw(t, "soid"), Status: str.Draw(t, "st"), Reason: str.Draw(t, "reason")})
		}
		j := assignmentJSON{Assignment: &a}
		for _, r := range []**ref{&j.Target, &j.AccessPackage, &j.AssignmentPolicy, &j.IncompatibleAccessPackage} {
			if rapid.Bool().Draw(t, "ref?") {
				*r = &ref{ID: str.Draw(t, "ref-id"), DisplayName: str.Draw(t, "ref-name")}
			}
		}
		want, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		got, err := j.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("appendJSON:\n%s\njson.Marshal:\n%s", got, want)
		}
	})
}
