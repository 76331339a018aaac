package entitlement

// CreateAssignmentPolicy creates an assignment policy (POST
// /assignmentPolicies). Policy.AccessPackageID names the package; the id and
// the timestamps are assigned by the library. A policy with
// automaticRequestSettings is an auto-assignment policy, which only Global
// Administrators and Identity Governance Administrators may create. A
// policy (created or replaced) whose expiration endDateTime is not after
// the command's instant is refused: nobody could be assigned through it.
type CreateAssignmentPolicy struct {
	Policy AssignmentPolicy
}

// ReplaceAssignmentPolicy replaces a whole policy (PUT
// /assignmentPolicies/{id}): fields absent from Policy are reset. The
// policy stays in its package.
type ReplaceAssignmentPolicy struct {
	PolicyID string
	Policy   AssignmentPolicy
}

// DeleteAssignmentPolicy deletes a policy that has no non-ended
// assignments; an automatic assignment policy's own assignments are
// removed first (by the system's removal requests), as if its rule matched
// nobody.
type DeleteAssignmentPolicy struct {
	PolicyID string
}

func (CreateAssignmentPolicy) commandName() string  { return "CreateAssignmentPolicy" }
func (ReplaceAssignmentPolicy) commandName() string { return "ReplaceAssignmentPolicy" }
func (DeleteAssignmentPolicy) commandName() string  { return "DeleteAssignmentPolicy" }
