package entitlement

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Service limits of entitlement management (domain spec §1.18,
// governance-service-limits). Commands that would exceed one fail with
// ErrLimit. Entra's limits on custom extensions and resource attributes
// are not here: neither is supported yet.
const (
	// MaxResourcesPerCatalog is the number of resources per catalog.
	MaxResourcesPerCatalog = 50
	// MaxPoliciesPerPackage is the number of assignment policies per access
	// package.
	MaxPoliciesPerPackage = 10
	// MaxAutoAssignmentPoliciesPerPackage is the number of auto-assignment
	// policies per access package (§2.7).
	MaxAutoAssignmentPoliciesPerPackage = 1
	// MaxAccessPackages is the number of access packages per tenant.
	MaxAccessPackages = 4000
	// MaxAssignments is the number of assignments per tenant.
	MaxAssignments = 100000
	// MaxCatalogs is the number of catalogs per tenant.
	MaxCatalogs = 1500
	// MaxConnectedOrganizations is the number of connected organizations per
	// tenant.
	MaxConnectedOrganizations = 2500
	// MaxPolicies is the number of assignment policies per tenant.
	MaxPolicies = 5000
	// MaxRequestsPerThreeMonths is the number of assignment requests per
	// tenant within 3 months. At the limit, adds and updates are refused;
	// removals, and an administrator's update that only brings an end
	// forward, are not.
	MaxRequestsPerThreeMonths = 50000
	// MaxPackagesPerCatalog is the number of access packages per catalog.
	MaxPackagesPerCatalog = 50
	// MaxDelegatesPerCatalog is the number of users delegated to catalog
	// roles per catalog.
	MaxDelegatesPerCatalog = 10
	// MaxAssignmentsPerPackage is the number of assignments per access
	// package.
	MaxAssignmentsPerPackage = 10000
	// MaxAutoAssignmentUsers is the number of users an auto-assignment
	// policy's rule may cover when it is set (the policy created, or its
	// rule changed to one that matches more); users who come to match it
	// later are assigned too.
	MaxAutoAssignmentUsers = 5000
)

// Rules of the policy model that Validate enforces (portal rules, domain
// spec §2.3, §2.4 and §8 row 28, and our own caps where Graph states none).
const (
	// MaxApprovalStages is the number of approval stages a policy may have.
	MaxApprovalStages = 3
	// MaxExpirationDays is the longest afterDuration expiration, in days.
	MaxExpirationDays = 3660
	// MaxQuestionsPerPolicy caps a policy's questions. Graph documents no
	// limit; 20 matches the per-catalog attribute limit and keeps request
	// forms usable.
	MaxQuestionsPerPolicy = 20
	// MaxChoicesPerQuestion caps a multiple-choice question's choices (our
	// cap; Graph documents none).
	MaxChoicesPerQuestion = 100
	// MaxApprovalStageDuration is the longest durationBeforeAutomaticDenial
	// (the portal allows at most 14 days for approvers to decide).
	MaxApprovalStageDuration = 14 * 24 * time.Hour
	// MinDurationBeforeEscalation is the shortest durationBeforeEscalation
	// when escalation is enabled (the portal forwards after at least a day).
	MinDurationBeforeEscalation = 24 * time.Hour
	// MinStageDurationWithEscalation is the shortest
	// durationBeforeAutomaticDenial of a stage with escalation enabled.
	MinStageDurationWithEscalation = 4 * 24 * time.Hour
)

// Which subject-set kinds may appear where.
var (
	// approverKinds may be primary, fallback or escalation approvers.
	approverKinds = []SubjectSetKind{
		SingleUser, GroupMembers, RequestorManager, TargetManager, InternalSponsors,
		ExternalSponsors, TargetUserSponsors, TargetApplicationOwners,
		TargetAgentIdentitySponsorsOrOwners,
	}
	// reviewerKinds may be primary or fallback reviewers.
	reviewerKinds = []SubjectSetKind{SingleUser, GroupMembers, RequestorManager, TargetManager}
	// onBehalfKinds may request on behalf of others.
	onBehalfKinds = []SubjectSetKind{SingleUser, GroupMembers, TargetManager}
)

// allowedTargetKinds returns the subject-set kinds a specific* scope takes
// in specificAllowedTargets (nil for the other scopes).
func allowedTargetKinds(s AllowedTargetScope) []SubjectSetKind {
	switch s {
	case ScopeSpecificDirectoryUsers:
		return []SubjectSetKind{SingleUser, GroupMembers, AttributeRuleMembers}
	case ScopeSpecificConnectedOrganizationUsers:
		return []SubjectSetKind{ConnectedOrganizationMembers}
	case ScopeSpecificDirectoryServicePrincipals:
		return []SubjectSetKind{SingleServicePrincipal, GroupMembers}
	}
	return nil
}

// Validate checks the rules of the policy model that need no state: every
// rejection is an ErrInvalid *Error (Op "ValidateAssignmentPolicy") wrapping
// an *InvalidError whose Field is the Graph JSON path of the offending
// property, e.g. "requestApprovalSettings.stages[1].escalationApprovers".
// Commands may overwrite the Op. Checks against state (the access package
// exists, subjects and connected organizations exist, caps, who may create
// an auto-assignment policy) are the caller's.
//
// Decisions where Graph is loose or silent:
//   - allowedTargetScope is required; unknownFutureValue is rejected;
//     notSpecified is accepted (Graph's own direct-assignment example uses
//     it) and then means "administrators assign": self-service and
//     on-behalf add requests cannot be enabled.
//   - specificAllowedTargets: singleUser, groupMembers for
//     specificDirectoryUsers (plus attributeRuleMembers, only on an
//     auto-assignment policy); connectedOrganizationMembers for
//     specificConnectedOrganizationUsers; singleServicePrincipal,
//     groupMembers for specificDirectoryServicePrincipals; none for the
//     other scopes. So internal and external users never mix (§8 row 29).
//   - A stage needs primaryApprovers or, as in Graph's own example,
//     fallbackPrimaryApprovers. Escalation approvers and
//     durationBeforeEscalation are ignored (only well-formedness is
//     checked) while isEscalationEnabled is false, as Graph sends "PT0S".
//   - Durations are compared by Duration.Approx (mean calendar lengths).
//   - An absent or notSpecified expiration means no expiration by policy.
//     afterDuration needs a positive duration of at most MaxExpirationDays.
//   - Approval stages are refused while neither isApprovalRequiredForAdd
//     nor isApprovalRequiredForUpdate is true: no request would ask them.
//   - An auto-assignment policy takes no requests: no approval, no stages,
//     every enable* flag false, no onBehalfRequestors and no questions.
//   - Questions need an id (see AssignMissingQuestionIDs), unique ids and
//     sequences; regexPattern is a Go (RE2) regular expression.
func (p *AssignmentPolicy) Validate() error {
	if ie := p.validate(); ie != nil {
		return wrapInvalid("ValidateAssignmentPolicy", ie)
	}
	return nil
}

func invalidf(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (p *AssignmentPolicy) validate() *InvalidError {
	if strings.TrimSpace(p.DisplayName) == "" {
		return invalidf("displayName", "is required")
	}
	scope := p.AllowedTargetScope
	switch {
	case scope == "":
		return invalidf("allowedTargetScope", "is required")
	case scope == ScopeUnknownFutureValue:
		return invalidf("allowedTargetScope", "unknownFutureValue is not a valid scope for a policy")
	case !scope.Known():
		return invalidf("allowedTargetScope", "%q is not a valid allowedTargetScope value", scope)
	case scope == ScopeAllDirectoryAgentIdentities:
		return invalidf("allowedTargetScope", "%s is not supported yet: agent identities are not in the directory the library keeps, so nobody could be assigned", scope)
	}
	if ie := p.validateTargets(); ie != nil {
		return ie
	}
	if ie := validateExpirationPattern(p.Expiration, "expiration"); ie != nil {
		return ie
	}
	if ie := p.validateRequestorSettings(); ie != nil {
		return ie
	}
	if ie := validateApprovalSettings(p.RequestApprovalSettings, "requestApprovalSettings"); ie != nil {
		return ie
	}
	if ie := validateReviewSettings(p.ReviewSettings, "reviewSettings"); ie != nil {
		return ie
	}
	if ie := validateQuestions(p.Questions, "questions"); ie != nil {
		return ie
	}
	if p.AutomaticRequestSettings != nil {
		if ie := p.validateAutoAssignment(); ie != nil {
			return ie
		}
	}
	return nil
}

func (p *AssignmentPolicy) validateTargets() *InvalidError {
	scope := p.AllowedTargetScope
	targets := p.SpecificAllowedTargets
	if !scope.IsSpecific() {
		if len(targets) > 0 {
			return invalidf("specificAllowedTargets", "must be empty when allowedTargetScope is %s (only the specific* scopes take targets)", scope)
		}
		return nil
	}
	if len(targets) == 0 {
		return invalidf("specificAllowedTargets", "at least one target is required when allowedTargetScope is %s", scope)
	}
	kinds := allowedTargetKinds(scope)
	for i, t := range targets {
		path := fmt.Sprintf("specificAllowedTargets[%d]", i)
		if ie := validateSubjectSet(t, path); ie != nil {
			return ie
		}
		if !slices.Contains(kinds, t.Kind) {
			return invalidf(path+".@odata.type", "%s", targetKindReason(scope, t.Kind))
		}
		if t.Kind == AttributeRuleMembers && p.AutomaticRequestSettings == nil {
			return invalidf(path+".@odata.type", "attributeRuleMembers is only allowed on an auto-assignment policy (one with automaticRequestSettings)")
		}
		for j := range i {
			if sameSubject(targets[j], t) {
				return invalidf(path, "duplicates specificAllowedTargets[%d]", j)
			}
		}
	}
	return nil
}

// targetKindReason explains why kind k can't be a target of scope s.
func targetKindReason(s AllowedTargetScope, k SubjectSetKind) string {
	external := k == ConnectedOrganizationMembers
	directoryUser := k == SingleUser || k == GroupMembers || k == AttributeRuleMembers
	switch {
	case s == ScopeSpecificDirectoryUsers && external:
		return "connectedOrganizationMembers are external users; internal and external users cannot be mixed in one policy (create a second policy with specificConnectedOrganizationUsers)"
	case s == ScopeSpecificConnectedOrganizationUsers && directoryUser:
		return fmt.Sprintf("%s are directory users; internal and external users cannot be mixed in one policy (create a second policy with specificDirectoryUsers)", k)
	}
	return fmt.Sprintf("%s is not allowed as a target when allowedTargetScope is %s (allowed: %s)", k, s, kindList(allowedTargetKinds(s)))
}

func kindList(ks []SubjectSetKind) string {
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(k))
	}
	return b.String()
}

// sameSubject reports whether a and b denote the same subjects (ignoring
// the description).
func sameSubject(a, b SubjectSet) bool {
	a.Description, b.Description = "", ""
	return a == b
}

// validateSubjectSets checks a list of subject sets: each well-formed, of an
// allowed kind, and no duplicates.
func validateSubjectSets(list []SubjectSet, path string, kinds []SubjectSetKind, role string) *InvalidError {
	for i, s := range list {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if ie := validateSubjectSet(s, ip); ie != nil {
			return ie
		}
		if !slices.Contains(kinds, s.Kind) {
			return invalidf(ip+".@odata.type", "%s cannot be %s (allowed: %s)", s.Kind, role, kindList(kinds))
		}
		for j := range i {
			if sameSubject(list[j], s) {
				return invalidf(ip, "duplicates %s[%d]", path, j)
			}
		}
	}
	return nil
}

func validateExpirationPattern(e ExpirationPattern, path string) *InvalidError {
	if e.Type == "" && e.EndDateTime.IsZero() && e.Duration.IsZero() {
		return nil // absent
	}
	switch e.Type {
	case "":
		return invalidf(path+".type", "is required")
	case ExpirationNotSpecified, ExpirationNoExpiration:
		if !e.EndDateTime.IsZero() {
			return invalidf(path+".endDateTime", "must not be set when type is %s", e.Type)
		}
		if !e.Duration.IsZero() {
			return invalidf(path+".duration", "must not be set when type is %s", e.Type)
		}
	case ExpirationAfterDateTime:
		if e.EndDateTime.IsZero() {
			return invalidf(path+".endDateTime", "is required when type is afterDateTime")
		}
		if !e.Duration.IsZero() {
			return invalidf(path+".duration", "must not be combined with endDateTime (type is afterDateTime)")
		}
	case ExpirationAfterDuration:
		if e.Duration.IsZero() {
			return invalidf(path+".duration", "is required when type is afterDuration")
		}
		if !e.EndDateTime.IsZero() {
			return invalidf(path+".endDateTime", "must not be combined with duration (type is afterDuration)")
		}
		if e.Duration.Approx() <= 0 {
			return invalidf(path+".duration", "must be longer than zero")
		}
		if !e.Duration.AtMost(MaxExpirationDays * 24 * time.Hour) {
			return invalidf(path+".duration", "%s is longer than %d days", e.Duration, MaxExpirationDays)
		}
	default:
		return invalidf(path+".type", "%q is not a valid expirationPatternType value", e.Type)
	}
	return nil
}

func (p *AssignmentPolicy) validateRequestorSettings() *InvalidError {
	const path = "requestorSettings"
	r := p.RequestorSettings
	if p.AllowedTargetScope == ScopeNotSpecified {
		if r.EnableTargetsToSelfAddAccess {
			return invalidf(path+".enableTargetsToSelfAddAccess", "must be false when allowedTargetScope is notSpecified (nobody is in scope to request)")
		}
		if r.EnableOnBehalfRequestorsToAddAccess {
			return invalidf(path+".enableOnBehalfRequestorsToAddAccess", "must be false when allowedTargetScope is notSpecified (nobody is in scope to request for)")
		}
	}
	switch {
	case r.EnableOnBehalfRequestorsToUpdateAccess:
		return invalidf(path+".enableOnBehalfRequestorsToUpdateAccess", "not supported yet: Graph's request types have no "+
			"on-behalf update (only onBehalfAdd), so nothing would act on it")
	case r.EnableOnBehalfRequestorsToRemoveAccess:
		return invalidf(path+".enableOnBehalfRequestorsToRemoveAccess", "not supported yet: Graph's request types have no "+
			"on-behalf removal (only onBehalfAdd), so nothing would act on it")
	case len(r.OnBehalfRequestors) > 0 && !r.anyOnBehalf():
		return invalidf(path+".onBehalfRequestors", "must be empty unless an enableOnBehalfRequestorsTo* flag is true")
	case len(r.OnBehalfRequestors) == 0 && r.anyOnBehalf():
		return invalidf(path+".onBehalfRequestors", "is required when an enableOnBehalfRequestorsTo* flag is true")
	}
	return validateSubjectSets(r.OnBehalfRequestors, path+".onBehalfRequestors", onBehalfKinds, "an on-behalf requestor")
}

func validateApprovalSettings(a ApprovalSettings, path string) *InvalidError {
	required := a.IsApprovalRequiredForAdd || a.IsApprovalRequiredForUpdate
	if required && len(a.Stages) == 0 {
		return invalidf(path+".stages", "at least one stage is required when approval is required")
	}
	if !required && len(a.Stages) > 0 {
		return invalidf(path+".stages", "must be empty unless isApprovalRequiredForAdd or isApprovalRequiredForUpdate is true: no request would ask them")
	}
	if len(a.Stages) > MaxApprovalStages {
		return invalidf(path+".stages", "has %d stages; at most %d are allowed", len(a.Stages), MaxApprovalStages)
	}
	for i, s := range a.Stages {
		if ie := validateApprovalStage(s, fmt.Sprintf("%s.stages[%d]", path, i)); ie != nil {
			return ie
		}
	}
	return nil
}

func validateApprovalStage(s ApprovalStage, path string) *InvalidError {
	timeout := s.DurationBeforeAutomaticDenial
	switch {
	case timeout.IsZero():
		return invalidf(path+".durationBeforeAutomaticDenial", "is required")
	case timeout.Approx() <= 0:
		return invalidf(path+".durationBeforeAutomaticDenial", "must be longer than zero")
	case !timeout.AtMost(MaxApprovalStageDuration):
		return invalidf(path+".durationBeforeAutomaticDenial", "%s is longer than the maximum of 14 days", timeout)
	}
	if len(s.PrimaryApprovers) == 0 && len(s.FallbackPrimaryApprovers) == 0 {
		return invalidf(path+".primaryApprovers", "at least one approver is required (primaryApprovers or fallbackPrimaryApprovers)")
	}
	lists := []struct {
		name string
		list []SubjectSet
	}{
		{"primaryApprovers", s.PrimaryApprovers},
		{"fallbackPrimaryApprovers", s.FallbackPrimaryApprovers},
		{"escalationApprovers", s.EscalationApprovers},
		{"fallbackEscalationApprovers", s.FallbackEscalationApprovers},
	}
	for _, l := range lists {
		if ie := validateSubjectSets(l.list, path+"."+l.name, approverKinds, "an approver"); ie != nil {
			return ie
		}
	}
	if s.IsEscalationEnabled {
		esc := s.DurationBeforeEscalation
		switch {
		case len(s.EscalationApprovers) == 0:
			return invalidf(path+".escalationApprovers", "at least one escalation approver is required when isEscalationEnabled is true")
		case esc.IsZero():
			return invalidf(path+".durationBeforeEscalation", "is required when isEscalationEnabled is true")
		case !esc.AtLeast(MinDurationBeforeEscalation):
			return invalidf(path+".durationBeforeEscalation", "%s is shorter than 1 day", esc)
		case !timeout.AtLeast(MinStageDurationWithEscalation):
			return invalidf(path+".durationBeforeAutomaticDenial", "%s is shorter than the 4 days a stage with escalation needs", timeout)
		case esc.Compare(timeout) >= 0:
			return invalidf(path+".durationBeforeEscalation", "%s must be shorter than durationBeforeAutomaticDenial (%s)", esc, timeout)
		}
	}
	if v := s.ApproverInformationVisibility; v != "" && !v.Known() {
		return invalidf(path+".approverInformationVisibility", "%q is not a valid approverInformationVisibility value", v)
	}
	return nil
}

func validateReviewSettings(r ReviewSettings, path string) *InvalidError {
	if b := r.ExpirationBehavior; b != "" && !b.Known() {
		return invalidf(path+".expirationBehavior", "%q is not a valid accessReviewExpirationBehavior value", b)
	}
	if ie := validateSubjectSets(r.PrimaryReviewers, path+".primaryReviewers", reviewerKinds, "a reviewer"); ie != nil {
		return ie
	}
	if ie := validateSubjectSets(r.FallbackReviewers, path+".fallbackReviewers", reviewerKinds, "a reviewer"); ie != nil {
		return ie
	}
	sched := r.Schedule
	if ie := validateExpirationPattern(sched.Expiration, path+".schedule.expiration"); ie != nil {
		return ie
	}
	if ie := validateRecurrence(sched.Recurrence, path+".schedule.recurrence"); ie != nil {
		return ie
	}
	if !r.IsEnabled {
		return nil
	}
	switch {
	case len(r.PrimaryReviewers) == 0 && !r.IsSelfReview:
		return invalidf(path+".primaryReviewers", "at least one reviewer is required unless isSelfReview is true")
	case len(r.PrimaryReviewers) > 0 && r.IsSelfReview:
		return invalidf(path+".primaryReviewers", "must be empty when isSelfReview is true: the assigned users review their own access")
	case sched.Recurrence.Range.Type == RangeEndDate && !sched.StartDateTime.IsZero() &&
		sched.Recurrence.Range.EndDate < sched.StartDateTime.UTC().Format(time.DateOnly):
		return invalidf(path+".schedule.recurrence.range.endDate", "%s is before the first review starts (%s): no review would ever start",
			sched.Recurrence.Range.EndDate, sched.StartDateTime.UTC().Format(time.RFC3339))
	case r.ExpirationBehavior == "":
		return invalidf(path+".expirationBehavior", "is required when reviews are enabled")
	case sched.StartDateTime.IsZero():
		return invalidf(path+".schedule.startDateTime", "is required when reviews are enabled")
	case sched.Recurrence.Pattern.Type == "":
		return invalidf(path+".schedule.recurrence.pattern.type", "is required when reviews are enabled")
	case sched.Expiration.Type != "" && sched.Expiration.Type != ExpirationAfterDuration:
		return invalidf(path+".schedule.expiration.type", "must be afterDuration (how long each review stays open)")
	case sched.Expiration.Duration.IsZero() || sched.Expiration.Duration.Approx() <= 0:
		return invalidf(path+".schedule.expiration.duration", "is required when reviews are enabled: how long each review stays open")
	case sched.Recurrence.Range.RecurrenceTimeZone != "" && sched.Recurrence.Range.RecurrenceTimeZone != "UTC":
		return invalidf(path+".schedule.recurrence.range.recurrenceTimeZone", "only UTC is supported yet")
	}
	if at, next, ok := overlappingReviews(sched); ok {
		return invalidf(path+".schedule.expiration.duration", "each review must close before the next starts: "+
			"the review of %s would stay open %s, past the next one's start at %s", at.Format(time.RFC3339),
			sched.Expiration.Duration, next.Format(time.RFC3339))
	}
	return nil
}

// overlappingReviews returns the first of a schedule's reviews (among its
// first hundred) still open when the next starts, and that next start.
func overlappingReviews(sched EntitlementManagementSchedule) (at, next time.Time, ok bool) {
	n := 0
	for t := range sched.Recurrence.occurrences(sched.StartDateTime) {
		if n > 0 && sched.Expiration.Duration.AddTo(at).After(t) {
			return at, t, true
		}
		if n++; n > 100 {
			break
		}
		at = t
	}
	return time.Time{}, time.Time{}, false
}

func validateRecurrence(r PatternedRecurrence, path string) *InvalidError {
	pat := r.Pattern
	pp := path + ".pattern"
	if pat.Type != "" && !pat.Type.Known() {
		return invalidf(pp+".type", "%q is not a valid recurrencePatternType value", pat.Type)
	}
	if pat.Type != "" && pat.Interval < 1 {
		return invalidf(pp+".interval", "must be at least 1")
	}
	if pat.Interval < 0 || pat.Interval > 99 {
		return invalidf(pp+".interval", "must be between 1 and 99")
	}
	if pat.Month < 0 || pat.Month > 12 {
		return invalidf(pp+".month", "must be between 1 and 12")
	}
	if pat.DayOfMonth < 0 || pat.DayOfMonth > 31 {
		return invalidf(pp+".dayOfMonth", "must be between 1 and 31")
	}
	for i, d := range pat.DaysOfWeek {
		if !d.Known() {
			return invalidf(fmt.Sprintf("%s.daysOfWeek[%d]", pp, i), "%q is not a valid dayOfWeek value", d)
		}
	}
	if pat.FirstDayOfWeek != "" && !pat.FirstDayOfWeek.Known() {
		return invalidf(pp+".firstDayOfWeek", "%q is not a valid dayOfWeek value", pat.FirstDayOfWeek)
	}
	if pat.Index != "" && !pat.Index.Known() {
		return invalidf(pp+".index", "%q is not a valid weekIndex value", pat.Index)
	}
	rg := r.Range
	rp := path + ".range"
	if rg.Type != "" && !rg.Type.Known() {
		return invalidf(rp+".type", "%q is not a valid recurrenceRangeType value", rg.Type)
	}
	for _, d := range []struct{ name, val string }{{"startDate", rg.StartDate}, {"endDate", rg.EndDate}} {
		if d.val == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.val); err != nil {
			return invalidf(rp+"."+d.name, "%q is not a date (yyyy-mm-dd)", d.val)
		}
	}
	if rg.NumberOfOccurrences < 0 {
		return invalidf(rp+".numberOfOccurrences", "must not be negative")
	}
	switch rg.Type {
	case RangeEndDate:
		if rg.EndDate == "" {
			return invalidf(rp+".endDate", "is required when type is endDate")
		}
	case RangeNumbered:
		if rg.NumberOfOccurrences < 1 {
			return invalidf(rp+".numberOfOccurrences", "must be at least 1 when type is numbered")
		}
	}
	return nil
}

func validateQuestions(qs []Question, path string) *InvalidError {
	if len(qs) > MaxQuestionsPerPolicy {
		return invalidf(path, "has %d questions; at most %d are allowed", len(qs), MaxQuestionsPerPolicy)
	}
	ids := map[string]int{}
	seqs := map[int]int{}
	for i, q := range qs {
		qp := fmt.Sprintf("%s[%d]", path, i)
		if !q.Kind.Known() {
			return invalidf(qp+".@odata.type", "%q is not a supported question type", q.Kind)
		}
		if q.ID == "" {
			return invalidf(qp+".id", "is required")
		}
		if j, dup := ids[q.ID]; dup {
			return invalidf(qp+".id", "%q is also the id of %s[%d]", q.ID, path, j)
		}
		ids[q.ID] = i
		if q.Sequence < 0 {
			return invalidf(qp+".sequence", "must not be negative")
		}
		if j, dup := seqs[q.Sequence]; dup {
			return invalidf(qp+".sequence", "%d is also the sequence of %s[%d]", q.Sequence, path, j)
		}
		seqs[q.Sequence] = i
		if strings.TrimSpace(q.Text) == "" {
			return invalidf(qp+".text", "is required")
		}
		if ie := validateLocalizations(q.Localizations, qp+".localizations"); ie != nil {
			return ie
		}
		switch q.Kind {
		case TextInputQuestion:
			if len(q.Choices) > 0 {
				return invalidf(qp+".choices", "is not a property of a text input question")
			}
			if q.IsMultipleSelectionAllowed {
				return invalidf(qp+".isMultipleSelectionAllowed", "is not a property of a text input question")
			}
			if q.RegexPattern != "" {
				if _, err := regexp.Compile(q.RegexPattern); err != nil {
					return invalidf(qp+".regexPattern", "is not a valid regular expression: %v", err)
				}
			}
		case MultipleChoiceQuestion:
			if q.IsSingleLineQuestion {
				return invalidf(qp+".isSingleLineQuestion", "is not a property of a multiple choice question")
			}
			if q.RegexPattern != "" {
				return invalidf(qp+".regexPattern", "is not a property of a multiple choice question")
			}
			if len(q.Choices) == 0 {
				return invalidf(qp+".choices", "at least one choice is required")
			}
			if len(q.Choices) > MaxChoicesPerQuestion {
				return invalidf(qp+".choices", "has %d choices; at most %d are allowed", len(q.Choices), MaxChoicesPerQuestion)
			}
			values := map[string]int{}
			for k, c := range q.Choices {
				cp := fmt.Sprintf("%s.choices[%d]", qp, k)
				if c.ActualValue == "" {
					return invalidf(cp+".actualValue", "is required")
				}
				if j, dup := values[c.ActualValue]; dup {
					return invalidf(cp+".actualValue", "%q is also the value of choices[%d]", c.ActualValue, j)
				}
				values[c.ActualValue] = k
				if ie := validateLocalizations(c.Localizations, cp+".localizations"); ie != nil {
					return ie
				}
			}
		}
	}
	return nil
}

func validateLocalizations(ls []LocalizedText, path string) *InvalidError {
	seen := map[string]int{}
	for i, l := range ls {
		lp := fmt.Sprintf("%s[%d]", path, i)
		if l.LanguageCode == "" {
			return invalidf(lp+".languageCode", "is required")
		}
		code := strings.ToLower(l.LanguageCode)
		if j, dup := seen[code]; dup {
			return invalidf(lp+".languageCode", "%q is also the language of %s[%d]", l.LanguageCode, path, j)
		}
		seen[code] = i
		if strings.TrimSpace(l.Text) == "" {
			return invalidf(lp+".text", "is required")
		}
	}
	return nil
}

func (p *AssignmentPolicy) validateAutoAssignment() *InvalidError {
	a := p.AutomaticRequestSettings
	if p.AllowedTargetScope != ScopeSpecificDirectoryUsers {
		return invalidf("allowedTargetScope", "must be specificDirectoryUsers on an auto-assignment policy")
	}
	if len(p.SpecificAllowedTargets) != 1 || p.SpecificAllowedTargets[0].Kind != AttributeRuleMembers {
		return invalidf("specificAllowedTargets", "an auto-assignment policy needs exactly one attributeRuleMembers target")
	}
	ap := p.RequestApprovalSettings
	switch {
	case ap.IsApprovalRequiredForAdd:
		return invalidf("requestApprovalSettings.isApprovalRequiredForAdd", "must be false on an auto-assignment policy")
	case ap.IsApprovalRequiredForUpdate:
		return invalidf("requestApprovalSettings.isApprovalRequiredForUpdate", "must be false on an auto-assignment policy")
	case ap.IsRequestorJustificationRequired:
		return invalidf("requestApprovalSettings.isRequestorJustificationRequired", "must be false on an auto-assignment policy")
	case len(ap.Stages) > 0:
		return invalidf("requestApprovalSettings.stages", "must be empty on an auto-assignment policy")
	}
	r := p.RequestorSettings
	flags := []struct {
		name string
		on   bool
	}{
		{"enableTargetsToSelfAddAccess", r.EnableTargetsToSelfAddAccess},
		{"enableTargetsToSelfUpdateAccess", r.EnableTargetsToSelfUpdateAccess},
		{"enableTargetsToSelfRemoveAccess", r.EnableTargetsToSelfRemoveAccess},
		{"enableOnBehalfRequestorsToAddAccess", r.EnableOnBehalfRequestorsToAddAccess},
		{"enableOnBehalfRequestorsToUpdateAccess", r.EnableOnBehalfRequestorsToUpdateAccess},
		{"enableOnBehalfRequestorsToRemoveAccess", r.EnableOnBehalfRequestorsToRemoveAccess},
	}
	for _, f := range flags {
		if f.on {
			return invalidf("requestorSettings."+f.name, "must be false on an auto-assignment policy (it takes no requests)")
		}
	}
	if len(p.Questions) > 0 {
		return invalidf("questions", "must be empty on an auto-assignment policy (it takes no requests)")
	}
	switch p.Expiration.Type {
	case "", ExpirationNotSpecified, ExpirationNoExpiration:
	default:
		return invalidf("expiration.type", "must be noExpiration on an auto-assignment policy (its assignments last while the user matches the rule)")
	}
	if p.ReviewSettings.IsEnabled {
		return invalidf("reviewSettings.isEnabled", "an auto-assignment policy's assignments follow its rule, not reviews")
	}
	g := a.GracePeriodBeforeAccessRemoval
	if !g.IsZero() && !g.AtMost(MaxExpirationDays*24*time.Hour) {
		return invalidf("automaticRequestSettings.gracePeriodBeforeAccessRemoval", "%s is longer than %d days", g, MaxExpirationDays)
	}
	return nil
}

// ValidateAnswers checks the answers of an assignment request against the
// policy's questions: each answer names a question of the policy; only a
// multiple-choice question with isMultipleSelectionAllowed takes several
// answers (each a different choice); every required question has a
// non-empty answer; a text answer to a single-line question has no line
// break and matches regexPattern entirely; a multiple-choice answer is the
// actualValue of one of the choices. Errors are ErrInvalid *Error values
// (Op "ValidateAnswers") whose *InvalidError Field is the request's JSON
// path, e.g. "answers[2].value", or "answers" for a missing answer.
func ValidateAnswers(questions []Question, answers []Answer) error {
	if ie := validateAnswers(questions, answers); ie != nil {
		return wrapInvalid("ValidateAnswers", ie)
	}
	return nil
}

func validateAnswers(questions []Question, answers []Answer) *InvalidError {
	byID := make(map[string]*Question, len(questions))
	for i := range questions {
		byID[questions[i].ID] = &questions[i]
	}
	answered := map[string][]string{}
	for i, a := range answers {
		ap := fmt.Sprintf("answers[%d]", i)
		if a.QuestionID == "" {
			return invalidf(ap+".answeredQuestion.id", "is required")
		}
		q, ok := byID[a.QuestionID]
		if !ok {
			return invalidf(ap+".answeredQuestion.id", "the policy has no question with id %q", a.QuestionID)
		}
		prev := answered[a.QuestionID]
		if len(prev) > 0 && !(q.Kind == MultipleChoiceQuestion && q.IsMultipleSelectionAllowed) {
			return invalidf(ap+".answeredQuestion.id", "question %q is answered more than once", a.QuestionID)
		}
		if slices.Contains(prev, a.Value) {
			return invalidf(ap+".value", "%q is chosen twice for question %q", a.Value, a.QuestionID)
		}
		answered[a.QuestionID] = append(prev, a.Value)
		if a.Value == "" {
			continue // an empty answer counts as unanswered
		}
		switch q.Kind {
		case TextInputQuestion:
			if q.IsSingleLineQuestion && strings.ContainsAny(a.Value, "\r\n") {
				return invalidf(ap+".value", "must be a single line")
			}
			if q.RegexPattern != "" {
				re, err := regexp.Compile(`^(?:` + q.RegexPattern + `)$`)
				if err != nil {
					return invalidf(ap+".answeredQuestion.id", "question %q has an invalid regexPattern", q.ID)
				}
				if !re.MatchString(a.Value) {
					return invalidf(ap+".value", "does not match the pattern %q of question %q", q.RegexPattern, q.ID)
				}
			}
		case MultipleChoiceQuestion:
			if !slices.ContainsFunc(q.Choices, func(c AnswerChoice) bool { return c.ActualValue == a.Value }) {
				return invalidf(ap+".value", "%q is not a choice of question %q", a.Value, q.ID)
			}
		}
	}
	for _, q := range questions {
		if !q.IsRequired {
			continue
		}
		if !slices.ContainsFunc(answered[q.ID], func(v string) bool { return v != "" }) {
			return invalidf("answers", "question %q (%q) is required", q.ID, q.Text)
		}
	}
	return nil
}
