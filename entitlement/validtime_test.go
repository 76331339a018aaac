package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestValidTime: the facts of time-driven work hold from the instant in
// their payload, never later than they were recorded; every other fact
// from when it was recorded.
func TestValidTime(t *testing.T) {
	recorded := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	escalated := end.Add(time.Hour)
	for _, c := range []struct {
		name string
		e    Event
		want time.Time
	}{
		{"expiry at the end", Event{Type: EventAssignmentExpired, Data: &AssignmentExpired{ExpiredDateTime: end}}, end},
		{"time-out", Event{Type: EventAssignmentRequestTimedOut, Data: &RequestChanged{DateTime: end}}, end},
		{"14-day notice", Event{Type: EventAssignmentFourteenDaysBeforeExpiration, Data: &AssignmentNotice{EndDateTime: end}}, end.Add(-14 * 24 * time.Hour)},
		{"1-day notice", Event{Type: EventAssignmentOneDayBeforeExpiration, Data: &AssignmentNotice{EndDateTime: end}}, end.Add(-24 * time.Hour)},
		{"stage opened", Event{Type: EventApprovalStageOpened, Data: &ApprovalStagePayload{Stage: ApprovalStageState{OpenedDateTime: end}}}, end},
		{"stage escalated", Event{Type: EventApprovalStageEscalated, Data: &ApprovalStagePayload{
			Stage: ApprovalStageState{OpenedDateTime: end, EscalatedDateTime: &escalated}}}, escalated},
		{"decision", Event{Type: EventAssignmentRequestApproved, Data: &ApprovalDecision{ReviewedDateTime: end}}, end},
		{"extension", Event{Type: EventAssignmentExtended, Data: &AssignmentExtended{DateTime: end}}, end},
		{"review started", Event{Type: EventAccessReviewStarted, Data: &AccessReviewStarted{Review: AccessReview{StartDateTime: end}}}, end},
		{"review decision", Event{Type: EventAccessReviewDecisionRecorded, Data: &AccessReviewDecision{ReviewedDateTime: end}}, end},
		{"review applied", Event{Type: EventAccessReviewApplied, Data: &AccessReviewApplied{DateTime: end}}, end},
		{"a payload time after the recording", Event{Type: EventAssignmentExpired,
			Data: &AssignmentExpired{ExpiredDateTime: recorded.Add(time.Hour)}}, recorded},
		{"no time in the payload", Event{Type: EventAssignmentExpired, Data: &AssignmentExpired{}}, recorded},
		{"an administrative change", Event{Type: EventAccessPackageUpdated, Data: &AccessPackageUpdated{ModifiedDateTime: end}}, recorded},
	} {
		require.Equal(t, c.want, ValidTime(c.e, recorded), c.name)
	}
}
