package report

import (
	"testing"

	"github.com/accessledger/accessledger/entitlement"
)

// TestDeliverySummary: counts by status, in the statuses' order, then the
// reasons of the failures.
func TestDeliverySummary(t *testing.T) {
	a := &entitlement.Assignment{Resources: []entitlement.ResourceDelivery{
		{Status: "fulfilled"}, {Status: "failed", Reason: "503 Service Unavailable"}, {Status: "fulfilled"}, {Status: "failed", Reason: "timeout"}}}
	if got, want := deliverySummary(a), "2 failed, 2 fulfilled: 503 Service Unavailable; timeout"; got != want {
		t.Fatalf("deliverySummary = %q, want %q", got, want)
	}
	if got := deliverySummary(&entitlement.Assignment{}); got != "" {
		t.Fatalf("deliverySummary of no resources = %q, want empty", got)
	}
}

// TestOperationType: a directoryAudit's operationType for each kind of
// activity, those the story does not record too.
func TestOperationType(t *testing.T) {
	for activity, want := range map[string]string{
		"Assign user as internal sponsor":                  "Assign",
		"Administrator directly assigns user to package":   "Assign",
		"Fulfill access package resource assignment":       "Assign",
		"Add member to group":                              "Assign",
		"Add Entitlement Management role assignment":       "Assign",
		"Remove user as external sponsor":                  "Unassign",
		"Administrator directly removes user from package": "Unassign",
		"Remove access package assignment":                 "Unassign",
		"Remove member from group":                         "Unassign",
		"Remove Entitlement Management role assignment":    "Unassign",
		"Create access package":                            "Add",
		"Add user":                                         "Add",
		"User requests access package assignment":          "Add",
		"Delete access package":                            "Delete",
		"Remove service principal":                         "Delete",
		"Update access package":                            "Update",
		"Set user manager":                                 "Update",
		"Disable account":                                  "Update",
	} {
		if got := operationType(activity); got != want {
			t.Errorf("operationType(%q) = %q, want %q", activity, got, want)
		}
	}
}
