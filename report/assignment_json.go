package report

import (
	"encoding/json"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/accessledger/accessledger/entitlement"
)

// appendJSON appends what json.Marshal writes of j, without reflection for
// the assignment itself: the assignments report writes a hundred thousand
// of them. An assignment with a recurrence in its schedule, which
// assignments do not have, is left to json.Marshal.
func (j *assignmentJSON) appendJSON(b []byte) ([]byte, error) {
	a := j.Assignment
	if a == nil || !reflect.ValueOf(a.Schedule.Recurrence).IsZero() {
		out, err := json.Marshal(j)
		return append(b, out...), err
	}
	b = append(b, `{"id":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"state":`...)
	b = appendString(b, a.State)
	b = append(b, `,"status":`...)
	b = appendString(b, a.Status)
	b = append(b, `,"schedule":{`...)
	comma := false
	if !a.Schedule.StartDateTime.IsZero() {
		b = append(b, `"startDateTime":`...)
		b = appendTime(b, a.Schedule.StartDateTime)
		comma = true
	}
	if e := a.Schedule.Expiration; !reflect.ValueOf(e).IsZero() {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"expiration":{`...)
		inner := false
		if e.Type != "" {
			b = append(b, `"type":`...)
			b = appendString(b, string(e.Type))
			inner = true
		}
		if !e.EndDateTime.IsZero() {
			if inner {
				b = append(b, ',')
			}
			b = append(b, `"endDateTime":`...)
			b = appendTime(b, e.EndDateTime)
			inner = true
		}
		if !e.Duration.IsZero() {
			if inner {
				b = append(b, ',')
			}
			d, err := e.Duration.MarshalJSON()
			if err != nil {
				return b, err
			}
			b = append(b, `"duration":`...)
			b = append(b, d...)
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	if a.ExpiredDateTime != nil {
		b = append(b, `,"expiredDateTime":`...)
		b = appendTime(b, *a.ExpiredDateTime)
	}
	b = append(b, `,"createdDateTime":`...)
	b = appendTime(b, a.CreatedDateTime)
	b = append(b, `,"accessPackageId":`...)
	b = appendString(b, a.AccessPackageID)
	b = append(b, `,"assignmentPolicyId":`...)
	b = appendString(b, a.AssignmentPolicyID)
	b = append(b, `,"targetId":`...)
	b = appendString(b, a.TargetID)
	b = append(b, `,"requestId":`...)
	b = appendString(b, a.RequestID)
	if len(a.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i := range a.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDelivery(b, &a.Resources[i])
		}
		b = append(b, ']')
	}
	if a.ExtendedDateTime != nil {
		b = append(b, `,"extendedDateTime":`...)
		b = appendTime(b, *a.ExtendedDateTime)
	}
	if a.FourteenDayNoticeSent {
		b = append(b, `,"fourteenDayNoticeSent":true`...)
	}
	if a.OneDayNoticeSent {
		b = append(b, `,"oneDayNoticeSent":true`...)
	}
	for _, nav := range []struct {
		name string
		r    *ref
	}{{"target", j.Target}, {"accessPackage", j.AccessPackage}, {"assignmentPolicy", j.AssignmentPolicy},
		{"incompatibleAccessPackage", j.IncompatibleAccessPackage}} {
		if nav.r == nil {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, nav.name...)
		b = append(b, `":{"id":`...)
		b = appendString(b, nav.r.ID)
		if nav.r.DisplayName != "" {
			b = append(b, `,"displayName":`...)
			b = appendString(b, nav.r.DisplayName)
		}
		if nav.r.SubjectLifecycle != "" {
			b = append(b, `,"subjectLifecycle":`...)
			b = appendString(b, nav.r.SubjectLifecycle)
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendDelivery(b []byte, d *entitlement.ResourceDelivery) []byte {
	for i, f := range [...]struct{ name, value string }{
		{"resourceRoleScopeId", d.ResourceRoleScopeID}, {"resourceId", d.ResourceID}, {"originSystem", d.OriginSystem},
		{"originId", d.OriginID}, {"roleId", d.RoleID}, {"roleOriginId", d.RoleOriginID}, {"scopeId", d.ScopeID},
		{"scopeOriginId", d.ScopeOriginID}, {"status", d.Status},
	} {
		if i == 0 {
			b = append(b, `{"`...)
		} else {
			b = append(b, `,"`...)
		}
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = appendString(b, f.value)
	}
	if d.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, d.Reason)
	}
	return append(b, '}')
}

// appendTime appends t as time.Time.MarshalJSON writes it.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendString appends s as json.Marshal writes a string: plain ASCII as
// it is, anything else (quotes, controls, HTML's <, > and &, non-ASCII)
// through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			out, _ := json.Marshal(s) // a string always encodes
			return append(b, out...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
