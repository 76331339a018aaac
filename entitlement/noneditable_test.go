package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// An update that leaves a non-editable answered question out keeps the
// add's answer and is accepted.
func TestNonEditableAnswerLeftOut(t *testing.T) {
	w, _ := accessWorld(t)
	alice := w.actors["alice"]
	pol := requestPolicy(w.id["P2"], "Asked")
	pol.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	pol.Questions = []Question{{Kind: MultipleChoiceQuestion, ID: "sites", Sequence: 1, IsRequired: true, Text: "Sites?",
		IsMultipleSelectionAllowed: true, Choices: []AnswerChoice{{ActualValue: "A"}, {ActualValue: "B"}, {ActualValue: "C"}}}}
	polID := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	add := w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: polID,
		Answers: []Answer{{QuestionID: "sites", Value: "A"}, {QuestionID: "sites", Value: "B"}}}).ID
	asg := w.getRequest(add).AssignmentID
	require.NotEmpty(t, asg)
	_, err := w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	require.NoError(t, err)
}
