package entitlement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssignmentPolicy mirrors Graph's accessPackageAssignmentPolicy: who may be
// assigned an access package, who may ask, who approves, how long the access
// lasts and how it is reviewed. Its JSON encoding is Graph's shape; decode
// external input with DecodeAssignmentPolicy, which is strict and validates.
//
// Optional complex properties are values, not pointers: the zero value
// means absent and is omitted from JSON. AutomaticRequestSettings is a
// pointer because its presence alone makes the policy an auto-assignment
// policy.
//
// Out of scope for now: customExtensionStageSettings (custom extensions come
// in a later issue; the decoder rejects the property) and the catalog
// relationship (it is the access package's catalog).
type AssignmentPolicy struct {
	// ID is accessPackageAssignmentPolicy.id.
	ID string `json:"id,omitempty"`
	// DisplayName is accessPackageAssignmentPolicy.displayName (required).
	DisplayName string `json:"displayName,omitempty"`
	// Description is accessPackageAssignmentPolicy.description.
	Description string `json:"description,omitempty"`
	// AllowedTargetScope is accessPackageAssignmentPolicy.allowedTargetScope:
	// who can be assigned through this policy.
	AllowedTargetScope AllowedTargetScope `json:"allowedTargetScope,omitempty"`
	// SpecificAllowedTargets is
	// accessPackageAssignmentPolicy.specificAllowedTargets, used with the
	// specific* scopes.
	SpecificAllowedTargets []SubjectSet `json:"specificAllowedTargets,omitempty"`
	// AutomaticRequestSettings is
	// accessPackageAssignmentPolicy.automaticRequestSettings; non-nil only on
	// an auto-assignment policy, which assigns its package to the users its
	// attributeRuleMembers rule matches and takes no requests.
	AutomaticRequestSettings *AutomaticRequestSettings `json:"automaticRequestSettings,omitempty"`
	// Expiration is accessPackageAssignmentPolicy.expiration: the lifetime
	// of assignments made through the policy.
	Expiration ExpirationPattern `json:"expiration,omitzero"`
	// RequestorSettings is accessPackageAssignmentPolicy.requestorSettings.
	RequestorSettings RequestorSettings `json:"requestorSettings,omitzero"`
	// RequestApprovalSettings is
	// accessPackageAssignmentPolicy.requestApprovalSettings.
	RequestApprovalSettings ApprovalSettings `json:"requestApprovalSettings,omitzero"`
	// ReviewSettings is accessPackageAssignmentPolicy.reviewSettings.
	ReviewSettings ReviewSettings `json:"reviewSettings,omitzero"`
	// NotificationSettings is
	// accessPackageAssignmentPolicy.notificationSettings.
	NotificationSettings NotificationSettings `json:"notificationSettings,omitzero"`
	// Questions is the accessPackageAssignmentPolicy.questions relationship
	// (contained accessPackageQuestion objects).
	Questions []Question `json:"questions,omitempty"`
	// AccessPackageID is the id of the accessPackageAssignmentPolicy.accessPackage
	// relationship; JSON carries it as "accessPackage": {"id": "…"}.
	AccessPackageID string `json:"-"`
	// CreatedDateTime is accessPackageAssignmentPolicy.createdDateTime.
	CreatedDateTime time.Time `json:"createdDateTime,omitzero"`
	// ModifiedDateTime is accessPackageAssignmentPolicy.modifiedDateTime.
	ModifiedDateTime time.Time `json:"modifiedDateTime,omitzero"`
}

// AllowedTargetScope mirrors Graph's allowedTargetScope enumeration.
type AllowedTargetScope string

// The values of allowedTargetScope.
const (
	// ScopeNotSpecified: no one in particular; used by direct-assignment
	// policies where only administrators assign.
	ScopeNotSpecified AllowedTargetScope = "notSpecified"
	// ScopeSpecificDirectoryUsers: the users in specificAllowedTargets.
	ScopeSpecificDirectoryUsers AllowedTargetScope = "specificDirectoryUsers"
	// ScopeSpecificConnectedOrganizationUsers: the users of the connected
	// organizations in specificAllowedTargets.
	ScopeSpecificConnectedOrganizationUsers AllowedTargetScope = "specificConnectedOrganizationUsers"
	// ScopeSpecificDirectoryServicePrincipals: the service principals in
	// specificAllowedTargets.
	ScopeSpecificDirectoryServicePrincipals AllowedTargetScope = "specificDirectoryServicePrincipals"
	// ScopeAllMemberUsers: all member users, no guests.
	ScopeAllMemberUsers AllowedTargetScope = "allMemberUsers"
	// ScopeAllDirectoryUsers: all users of the directory, members and guests.
	ScopeAllDirectoryUsers AllowedTargetScope = "allDirectoryUsers"
	// ScopeAllDirectoryServicePrincipals: all service principals.
	ScopeAllDirectoryServicePrincipals AllowedTargetScope = "allDirectoryServicePrincipals"
	// ScopeAllConfiguredConnectedOrganizationUsers: users of every
	// configured (not proposed) connected organization.
	ScopeAllConfiguredConnectedOrganizationUsers AllowedTargetScope = "allConfiguredConnectedOrganizationUsers"
	// ScopeAllExternalUsers: any external user; when a requestor from an
	// organization nobody connected is approved, their organization
	// becomes a proposed connected organization (one per domain).
	ScopeAllExternalUsers AllowedTargetScope = "allExternalUsers"
	// ScopeAllDirectoryAgentIdentities: all agent identities of the
	// directory. Not supported yet (there are no agent identities in the
	// directory the library keeps): a policy with it is refused.
	ScopeAllDirectoryAgentIdentities AllowedTargetScope = "allDirectoryAgentIdentities"
	// ScopeUnknownFutureValue is Graph's evolvable-enum sentinel; it is never
	// valid in a policy.
	ScopeUnknownFutureValue AllowedTargetScope = "unknownFutureValue"
)

// AllowedTargetScopes returns every AllowedTargetScope value, in Graph's
// order.
func AllowedTargetScopes() []AllowedTargetScope {
	return []AllowedTargetScope{
		ScopeNotSpecified, ScopeSpecificDirectoryUsers, ScopeSpecificConnectedOrganizationUsers,
		ScopeSpecificDirectoryServicePrincipals, ScopeAllMemberUsers, ScopeAllDirectoryUsers,
		ScopeAllDirectoryServicePrincipals, ScopeAllConfiguredConnectedOrganizationUsers,
		ScopeAllExternalUsers, ScopeAllDirectoryAgentIdentities, ScopeUnknownFutureValue,
	}
}

// Known reports whether s is one of the AllowedTargetScope constants.
func (s AllowedTargetScope) Known() bool { return slices.Contains(AllowedTargetScopes(), s) }

// IsExternal reports whether s admits users from other organizations
// (connected organizations or any external user).
func (s AllowedTargetScope) IsExternal() bool {
	switch s {
	case ScopeSpecificConnectedOrganizationUsers, ScopeAllConfiguredConnectedOrganizationUsers, ScopeAllExternalUsers:
		return true
	}
	return false
}

// IsSpecific reports whether s is one of the specific* scopes that take
// specificAllowedTargets.
func (s AllowedTargetScope) IsSpecific() bool {
	switch s {
	case ScopeSpecificDirectoryUsers, ScopeSpecificConnectedOrganizationUsers, ScopeSpecificDirectoryServicePrincipals:
		return true
	}
	return false
}

// AutomaticRequestSettings mirrors Graph's
// accessPackageAutomaticRequestSettings, present only on an automatic
// assignment policy (domain §2.7): the package is assigned, through
// systemAdd requests, to every user the policy's attributeRuleMembers rule
// matches, from the moment the policy is created or the user starts
// matching; see the package documentation for when rules are evaluated.
type AutomaticRequestSettings struct {
	// RequestAccessForAllowedTargets makes assignments for the users the
	// rule matches. When false, the policy makes no new assignments.
	RequestAccessForAllowedTargets bool `json:"requestAccessForAllowedTargets"`
	// RemoveAccessWhenTargetLeavesAllowedTargets removes a user's
	// assignment (systemRemove) when they stop matching the rule, after
	// GracePeriodBeforeAccessRemoval. When false, they keep it.
	RemoveAccessWhenTargetLeavesAllowedTargets bool `json:"removeAccessWhenTargetLeavesAllowedTargets"`
	// GracePeriodBeforeAccessRemoval is how long after a user stops
	// matching their assignment is removed; matching again within it
	// keeps the assignment. Zero removes at once. A removal already
	// scheduled keeps its time when the policy changes.
	GracePeriodBeforeAccessRemoval Duration `json:"gracePeriodBeforeAccessRemoval,omitzero"`
}

// ExpirationPattern mirrors Graph's expirationPattern: when assignments
// (or a review) end. The zero value means absent, which behaves as
// notSpecified (no expiration by policy).
type ExpirationPattern struct {
	// Type is expirationPattern.type.
	Type ExpirationPatternType `json:"type,omitempty"`
	// EndDateTime is expirationPattern.endDateTime, for afterDateTime.
	EndDateTime time.Time `json:"endDateTime,omitzero"`
	// Duration is expirationPattern.duration, for afterDuration.
	Duration Duration `json:"duration,omitzero"`
}

// ExpirationPatternType mirrors Graph's expirationPatternType enumeration.
type ExpirationPatternType string

// The values of expirationPatternType.
const (
	// ExpirationNotSpecified: no expiration given.
	ExpirationNotSpecified ExpirationPatternType = "notSpecified"
	// ExpirationNoExpiration: assignments never end by themselves.
	ExpirationNoExpiration ExpirationPatternType = "noExpiration"
	// ExpirationAfterDateTime: assignments end at endDateTime.
	ExpirationAfterDateTime ExpirationPatternType = "afterDateTime"
	// ExpirationAfterDuration: assignments end duration after they start.
	ExpirationAfterDuration ExpirationPatternType = "afterDuration"
)

// Known reports whether t is one of the ExpirationPatternType constants.
func (t ExpirationPatternType) Known() bool {
	switch t {
	case ExpirationNotSpecified, ExpirationNoExpiration, ExpirationAfterDateTime, ExpirationAfterDuration:
		return true
	}
	return false
}

// EndFor returns when an assignment starting at start ends under e, and
// false if e sets no end (absent, notSpecified or noExpiration).
func (e ExpirationPattern) EndFor(start time.Time) (time.Time, bool) {
	switch e.Type {
	case ExpirationAfterDateTime:
		return e.EndDateTime, !e.EndDateTime.IsZero()
	case ExpirationAfterDuration:
		if e.Duration.IsZero() {
			return time.Time{}, false
		}
		return e.Duration.AddTo(start), true
	}
	return time.Time{}, false
}

// RequestorSettings mirrors Graph's accessPackageAssignmentRequestorSettings:
// which kinds of request may be made through the policy and by whom.
type RequestorSettings struct {
	// EnableTargetsToSelfAddAccess allows userAdd requests.
	EnableTargetsToSelfAddAccess bool `json:"enableTargetsToSelfAddAccess"`
	// EnableTargetsToSelfUpdateAccess allows userUpdate requests
	// (extensions).
	EnableTargetsToSelfUpdateAccess bool `json:"enableTargetsToSelfUpdateAccess"`
	// EnableTargetsToSelfRemoveAccess allows userRemove requests.
	EnableTargetsToSelfRemoveAccess bool `json:"enableTargetsToSelfRemoveAccess"`
	// AllowCustomAssignmentSchedule: requests may carry a schedule.
	AllowCustomAssignmentSchedule bool `json:"allowCustomAssignmentSchedule"`
	// EnableOnBehalfRequestorsToAddAccess allows on-behalf add requests.
	EnableOnBehalfRequestorsToAddAccess bool `json:"enableOnBehalfRequestorsToAddAccess"`
	// EnableOnBehalfRequestorsToUpdateAccess would allow on-behalf update
	// requests: not yet (Graph has no such request type); Validate refuses
	// true.
	EnableOnBehalfRequestorsToUpdateAccess bool `json:"enableOnBehalfRequestorsToUpdateAccess"`
	// EnableOnBehalfRequestorsToRemoveAccess would allow on-behalf removal
	// requests: not yet (Graph has no such request type); Validate refuses
	// true.
	EnableOnBehalfRequestorsToRemoveAccess bool `json:"enableOnBehalfRequestorsToRemoveAccess"`
	// OnBehalfRequestors are who may request on behalf of others (e.g.
	// targetManager).
	OnBehalfRequestors []SubjectSet `json:"onBehalfRequestors,omitempty"`
}

// anyOnBehalf reports whether any on-behalf request type is enabled.
func (r RequestorSettings) anyOnBehalf() bool {
	return r.EnableOnBehalfRequestorsToAddAccess || r.EnableOnBehalfRequestorsToUpdateAccess || r.EnableOnBehalfRequestorsToRemoveAccess
}

// ApprovalSettings mirrors Graph's accessPackageAssignmentApprovalSettings.
type ApprovalSettings struct {
	// IsApprovalRequiredForAdd: add requests need approval.
	IsApprovalRequiredForAdd bool `json:"isApprovalRequiredForAdd"`
	// IsApprovalRequiredForUpdate: update requests (extensions) need
	// approval.
	IsApprovalRequiredForUpdate bool `json:"isApprovalRequiredForUpdate"`
	// IsRequestorJustificationRequired: requests must carry a
	// justification.
	IsRequestorJustificationRequired bool `json:"isRequestorJustificationRequired"`
	// Stages are the approval stages, run in order (1–3).
	Stages []ApprovalStage `json:"stages,omitempty"`
}

// ApprovalStage mirrors Graph's accessPackageApprovalStage.
type ApprovalStage struct {
	// DurationBeforeAutomaticDenial is the stage timeout, e.g. P14D.
	DurationBeforeAutomaticDenial Duration `json:"durationBeforeAutomaticDenial,omitzero"`
	// IsApproverJustificationRequired: decisions must carry a justification.
	IsApproverJustificationRequired bool `json:"isApproverJustificationRequired"`
	// IsEscalationEnabled: forward to escalationApprovers after
	// durationBeforeEscalation.
	IsEscalationEnabled bool `json:"isEscalationEnabled"`
	// DurationBeforeEscalation is how long primary approvers have before
	// escalation.
	DurationBeforeEscalation Duration `json:"durationBeforeEscalation,omitzero"`
	// PrimaryApprovers are asked first.
	PrimaryApprovers []SubjectSet `json:"primaryApprovers,omitempty"`
	// FallbackPrimaryApprovers are asked when the primary approvers resolve
	// to nobody.
	FallbackPrimaryApprovers []SubjectSet `json:"fallbackPrimaryApprovers,omitempty"`
	// EscalationApprovers are asked after escalation.
	EscalationApprovers []SubjectSet `json:"escalationApprovers,omitempty"`
	// FallbackEscalationApprovers are asked when the escalation approvers
	// resolve to nobody.
	FallbackEscalationApprovers []SubjectSet `json:"fallbackEscalationApprovers,omitempty"`
	// ApproverInformationVisibility is whether the requestor sees who the
	// approvers are: with notVisible, State.MyRequests and
	// GetAssignmentRequest leave out of the stage, for a requestor or
	// target who is neither its approver nor allowed to view the
	// package's requests, its approvers and who decided. (The events the
	// embedding program receives keep them.)
	ApproverInformationVisibility ApproverInformationVisibility `json:"approverInformationVisibility,omitempty"`
}

// ApproverInformationVisibility mirrors Graph's
// approverInformationVisibility enumeration.
type ApproverInformationVisibility string

// The values of approverInformationVisibility.
const (
	// ApproverInformationDefault: the tenant's default, which here is
	// visible.
	ApproverInformationDefault ApproverInformationVisibility = "default"
	// ApproverInformationNotVisible: requestors don't see the approvers.
	ApproverInformationNotVisible ApproverInformationVisibility = "notVisible"
	// ApproverInformationVisible: requestors see the approvers.
	ApproverInformationVisible ApproverInformationVisibility = "visible"
)

// Known reports whether v is one of the ApproverInformationVisibility
// constants.
func (v ApproverInformationVisibility) Known() bool {
	return v == ApproverInformationDefault || v == ApproverInformationNotVisible || v == ApproverInformationVisible
}

// ReviewSettings mirrors Graph's accessPackageAssignmentReviewSettings:
// recurring access reviews of the policy's assignments, which ProcessDue
// starts at each occurrence of Schedule and closes (applying their
// results) after Schedule.Expiration.Duration; see AccessReview.
type ReviewSettings struct {
	// IsEnabled: reviews are required.
	IsEnabled bool `json:"isEnabled"`
	// ExpirationBehavior is the decision applied to users nobody reviewed.
	ExpirationBehavior ReviewExpirationBehavior `json:"expirationBehavior,omitempty"`
	// IsRecommendationEnabled: show recommendations to reviewers. Graph
	// JSON that leaves it out of reviewSettings means true, as in Graph.
	IsRecommendationEnabled bool `json:"isRecommendationEnabled"`
	// IsReviewerJustificationRequired: reviewers must justify their
	// decisions (Graph: "whether the reviewer must provide justification
	// for the decision"), approvals and denials alike. Graph JSON that
	// leaves it out of reviewSettings means true, as in Graph.
	IsReviewerJustificationRequired bool `json:"isReviewerJustificationRequired"`
	// IsSelfReview: the assigned users review their own access.
	IsSelfReview bool `json:"isSelfReview"`
	// Schedule is when the first review starts, how often reviews recur
	// (recurrence) and how long each stays open (expiration.duration).
	Schedule EntitlementManagementSchedule `json:"schedule,omitzero"`
	// PrimaryReviewers review the assignments. A user nobody can review
	// (no manager, and no fallback reviewers) is left undecided and gets
	// ExpirationBehavior.
	PrimaryReviewers []SubjectSet `json:"primaryReviewers,omitempty"`
	// FallbackReviewers review when the primary reviewers resolve to
	// nobody.
	FallbackReviewers []SubjectSet `json:"fallbackReviewers,omitempty"`
}

// ReviewExpirationBehavior mirrors Graph's accessReviewExpirationBehavior.
type ReviewExpirationBehavior string

// The values of accessReviewExpirationBehavior.
const (
	// ReviewKeepAccess: unreviewed users keep their access.
	ReviewKeepAccess ReviewExpirationBehavior = "keepAccess"
	// ReviewRemoveAccess: unreviewed users lose their access.
	ReviewRemoveAccess ReviewExpirationBehavior = "removeAccess"
	// ReviewAcceptAccessRecommendation: in Entra the recommendation
	// (approve if signed in within 30 days, else deny) is applied. The
	// library knows no sign-in activity, so every recommendation is
	// NotAvailable and unreviewed users keep their access.
	ReviewAcceptAccessRecommendation ReviewExpirationBehavior = "acceptAccessRecommendation"
)

// Known reports whether b is one of the ReviewExpirationBehavior constants.
func (b ReviewExpirationBehavior) Known() bool {
	return b == ReviewKeepAccess || b == ReviewRemoveAccess || b == ReviewAcceptAccessRecommendation
}

// EntitlementManagementSchedule mirrors Graph's entitlementManagementSchedule
// (used by review settings here, and by requests and assignments).
type EntitlementManagementSchedule struct {
	// StartDateTime is when the schedule starts.
	StartDateTime time.Time `json:"startDateTime,omitzero"`
	// Expiration is when it ends (for reviews: how long each is open).
	Expiration ExpirationPattern `json:"expiration,omitzero"`
	// Recurrence is how it repeats.
	Recurrence PatternedRecurrence `json:"recurrence,omitzero"`
}

// PatternedRecurrence mirrors Graph's patternedRecurrence.
type PatternedRecurrence struct {
	// Pattern is how often it recurs.
	Pattern RecurrencePattern `json:"pattern,omitzero"`
	// Range is how long it recurs.
	Range RecurrenceRange `json:"range,omitzero"`
}

// RecurrencePattern mirrors Graph's recurrencePattern.
type RecurrencePattern struct {
	// Type is daily, weekly, absoluteMonthly, relativeMonthly,
	// absoluteYearly or relativeYearly.
	Type RecurrencePatternType `json:"type,omitempty"`
	// Interval is the number of units (days, weeks, months, years) between
	// occurrences.
	Interval int `json:"interval,omitempty"`
	// Month is the month (1–12) for the yearly types.
	Month int `json:"month,omitempty"`
	// DayOfMonth is the day (1–31) for the absolute types.
	DayOfMonth int `json:"dayOfMonth,omitempty"`
	// DaysOfWeek are the days for weekly and the relative types.
	DaysOfWeek []DayOfWeek `json:"daysOfWeek,omitempty"`
	// FirstDayOfWeek is the first day of the week for weekly patterns.
	FirstDayOfWeek DayOfWeek `json:"firstDayOfWeek,omitempty"`
	// Index is the week of the month for the relative types.
	Index WeekIndex `json:"index,omitempty"`
}

// RecurrencePatternType mirrors Graph's recurrencePatternType.
type RecurrencePatternType string

// The values of recurrencePatternType.
const (
	// RecurrenceDaily: every interval days.
	RecurrenceDaily RecurrencePatternType = "daily"
	// RecurrenceWeekly: on daysOfWeek every interval weeks.
	RecurrenceWeekly RecurrencePatternType = "weekly"
	// RecurrenceAbsoluteMonthly: on dayOfMonth every interval months.
	RecurrenceAbsoluteMonthly RecurrencePatternType = "absoluteMonthly"
	// RecurrenceRelativeMonthly: on the index-th daysOfWeek every interval
	// months.
	RecurrenceRelativeMonthly RecurrencePatternType = "relativeMonthly"
	// RecurrenceAbsoluteYearly: on dayOfMonth of month every interval years.
	RecurrenceAbsoluteYearly RecurrencePatternType = "absoluteYearly"
	// RecurrenceRelativeYearly: on the index-th daysOfWeek of month every
	// interval years.
	RecurrenceRelativeYearly RecurrencePatternType = "relativeYearly"
)

// Known reports whether t is one of the RecurrencePatternType constants.
func (t RecurrencePatternType) Known() bool {
	switch t {
	case RecurrenceDaily, RecurrenceWeekly, RecurrenceAbsoluteMonthly, RecurrenceRelativeMonthly, RecurrenceAbsoluteYearly, RecurrenceRelativeYearly:
		return true
	}
	return false
}

// DayOfWeek mirrors Graph's dayOfWeek ("sunday" … "saturday").
type DayOfWeek string

// Known reports whether d is a day of the week in Graph's spelling.
func (d DayOfWeek) Known() bool {
	switch d {
	case "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday":
		return true
	}
	return false
}

// WeekIndex mirrors Graph's weekIndex ("first" … "fourth", "last").
type WeekIndex string

// Known reports whether w is a week index in Graph's spelling.
func (w WeekIndex) Known() bool {
	switch w {
	case "first", "second", "third", "fourth", "last":
		return true
	}
	return false
}

// RecurrenceRange mirrors Graph's recurrenceRange. Dates are Edm.Date
// strings, "2006-01-02".
type RecurrenceRange struct {
	// Type is noEnd, endDate or numbered.
	Type RecurrenceRangeType `json:"type,omitempty"`
	// StartDate is the first date of the range.
	StartDate string `json:"startDate,omitempty"`
	// EndDate is the last date, for endDate ranges.
	EndDate string `json:"endDate,omitempty"`
	// RecurrenceTimeZone is the time zone of the dates.
	RecurrenceTimeZone string `json:"recurrenceTimeZone,omitempty"`
	// NumberOfOccurrences is the count, for numbered ranges.
	NumberOfOccurrences int `json:"numberOfOccurrences,omitempty"`
}

// RecurrenceRangeType mirrors Graph's recurrenceRangeType.
type RecurrenceRangeType string

// The values of recurrenceRangeType.
const (
	// RangeNoEnd: the recurrence never ends.
	RangeNoEnd RecurrenceRangeType = "noEnd"
	// RangeEndDate: the recurrence ends on endDate.
	RangeEndDate RecurrenceRangeType = "endDate"
	// RangeNumbered: the recurrence ends after numberOfOccurrences.
	RangeNumbered RecurrenceRangeType = "numbered"
)

// Known reports whether t is one of the RecurrenceRangeType constants.
func (t RecurrenceRangeType) Known() bool {
	return t == RangeNoEnd || t == RangeEndDate || t == RangeNumbered
}

// NotificationSettings mirrors Graph's accessPackageNotificationSettings.
type NotificationSettings struct {
	// IsAssignmentNotificationDisabled turns off assignment notification
	// mails. accessledger sends none itself: the expiry notices of the
	// policy's assignments say NotificationDisabled, so that an embedding
	// program that mails from them leaves them out.
	IsAssignmentNotificationDisabled bool `json:"isAssignmentNotificationDisabled"`
}

// QuestionKind says which subtype of Graph's abstract accessPackageQuestion a
// Question is; its value is the "@odata.type".
type QuestionKind string

// The accessPackageQuestion subtypes.
const (
	// TextInputQuestion is accessPackageTextInputQuestion.
	TextInputQuestion QuestionKind = "#microsoft.graph.accessPackageTextInputQuestion"
	// MultipleChoiceQuestion is accessPackageMultipleChoiceQuestion.
	MultipleChoiceQuestion QuestionKind = "#microsoft.graph.accessPackageMultipleChoiceQuestion"
)

// Known reports whether k is one of the QuestionKind constants.
func (k QuestionKind) Known() bool { return k == TextInputQuestion || k == MultipleChoiceQuestion }

// Question mirrors Graph's accessPackageQuestion and its two subtypes in one
// struct: Kind selects the subtype, and only that subtype's fields may be
// set (IsSingleLineQuestion and RegexPattern for text input; Choices and
// IsMultipleSelectionAllowed for multiple choice).
type Question struct {
	// Kind is the subtype, the JSON "@odata.type".
	Kind QuestionKind
	// ID is accessPackageQuestion.id, referenced by answers.
	ID string
	// Sequence is accessPackageQuestion.sequence, the display order.
	Sequence int
	// IsRequired is accessPackageQuestion.isRequired.
	IsRequired bool
	// IsAnswerEditable is accessPackageQuestion.isAnswerEditable: whether
	// an update request may answer the question again. If not, an update
	// does not ask it, and refuses an answer other than the one the
	// assignment's add request gave.
	IsAnswerEditable bool
	// Text is accessPackageQuestion.text.
	Text string
	// Localizations is accessPackageQuestion.localizations.
	Localizations []LocalizedText
	// IsSingleLineQuestion is accessPackageTextInputQuestion.isSingleLineQuestion.
	IsSingleLineQuestion bool
	// RegexPattern is accessPackageTextInputQuestion.regexPattern; answers
	// must match it entirely.
	RegexPattern string
	// Choices is accessPackageMultipleChoiceQuestion.choices.
	Choices []AnswerChoice
	// IsMultipleSelectionAllowed is
	// accessPackageMultipleChoiceQuestion.isMultipleSelectionAllowed.
	IsMultipleSelectionAllowed bool
}

// LocalizedText mirrors Graph's accessPackageLocalizedText.
type LocalizedText struct {
	// LanguageCode is an ISO 639-1 code such as "en-us".
	LanguageCode string `json:"languageCode"`
	// Text is the text in that language.
	Text string `json:"text"`
}

// AnswerChoice mirrors Graph's accessPackageAnswerChoice.
type AnswerChoice struct {
	// ActualValue is the value an answer carries.
	ActualValue string `json:"actualValue"`
	// Text is what the requestor sees.
	Text string `json:"text,omitempty"`
	// Localizations are translations of Text.
	Localizations []LocalizedText `json:"localizations,omitempty"`
}

// questionWire is the JSON shape of both question subtypes; which keys are
// allowed depends on "@odata.type".
type questionWire struct {
	ODataType                  string          `json:"@odata.type"`
	ID                         string          `json:"id,omitempty"`
	Sequence                   int             `json:"sequence"`
	IsRequired                 bool            `json:"isRequired"`
	IsAnswerEditable           bool            `json:"isAnswerEditable"`
	Text                       string          `json:"text"`
	Localizations              []LocalizedText `json:"localizations,omitempty"`
	IsSingleLineQuestion       *bool           `json:"isSingleLineQuestion,omitempty"`
	RegexPattern               string          `json:"regexPattern,omitempty"`
	Choices                    []AnswerChoice  `json:"choices,omitempty"`
	IsMultipleSelectionAllowed *bool           `json:"isMultipleSelectionAllowed,omitempty"`
}

var (
	textInputOnly      = []string{"isSingleLineQuestion", "regexPattern"}
	multipleChoiceOnly = []string{"choices", "isMultipleSelectionAllowed"}
)

// MarshalJSON encodes q in Graph's shape with its "@odata.type".
func (q Question) MarshalJSON() ([]byte, error) {
	w := questionWire{
		ODataType: string(q.Kind), ID: q.ID, Sequence: q.Sequence, IsRequired: q.IsRequired,
		IsAnswerEditable: q.IsAnswerEditable, Text: q.Text, Localizations: q.Localizations,
	}
	switch q.Kind {
	case TextInputQuestion:
		single := q.IsSingleLineQuestion
		w.IsSingleLineQuestion = &single
		w.RegexPattern = q.RegexPattern
	case MultipleChoiceQuestion:
		multi := q.IsMultipleSelectionAllowed
		w.IsMultipleSelectionAllowed = &multi
		w.Choices = q.Choices
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a question strictly: "@odata.type" must name one of
// the two subtypes and only that subtype's properties may appear. null is a
// no-op.
func (q *Question) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	v, err := decodeGeneric(b)
	if err != nil {
		return invalid("DecodeQuestion", "", "malformed JSON: %v", err)
	}
	if ie := questionShape(v, ""); ie != nil {
		return wrapInvalid("DecodeQuestion", ie)
	}
	var w questionWire
	if err := json.Unmarshal(b, &w); err != nil {
		return invalid("DecodeQuestion", "", "%v", err)
	}
	kind, _ := parseQuestionODataType(w.ODataType)
	*q = Question{
		Kind: kind, ID: w.ID, Sequence: w.Sequence, IsRequired: w.IsRequired,
		IsAnswerEditable: w.IsAnswerEditable, Text: w.Text, Localizations: w.Localizations,
		RegexPattern: w.RegexPattern, Choices: w.Choices,
	}
	if w.IsSingleLineQuestion != nil {
		q.IsSingleLineQuestion = *w.IsSingleLineQuestion
	}
	if w.IsMultipleSelectionAllowed != nil {
		q.IsMultipleSelectionAllowed = *w.IsMultipleSelectionAllowed
	}
	return nil
}

func parseQuestionODataType(t string) (QuestionKind, bool) {
	name, ok := graphTypeName(t)
	if !ok {
		return "", false
	}
	k := QuestionKind("#microsoft.graph." + name)
	return k, k.Known()
}

func questionShape(v any, path string) *InvalidError {
	m, ok := v.(map[string]any)
	if !ok {
		return &InvalidError{Field: path, Reason: "must be a JSON object (an accessPackageQuestion)"}
	}
	tpath := joinPath(path, "@odata.type")
	raw, present := m["@odata.type"]
	if !present {
		return &InvalidError{Field: tpath, Reason: "is required on a question (#microsoft.graph.accessPackageTextInputQuestion or #microsoft.graph.accessPackageMultipleChoiceQuestion)"}
	}
	ts, ok := raw.(string)
	if !ok {
		return &InvalidError{Field: tpath, Reason: "must be a string"}
	}
	kind, ok := parseQuestionODataType(ts)
	if !ok {
		return &InvalidError{Field: tpath, Reason: fmt.Sprintf("%q is not a supported question type", ts)}
	}
	other := multipleChoiceOnly
	if kind == MultipleChoiceQuestion {
		other = textInputOnly
	}
	return shapeObject(m, questionWireType, path, func(key string) bool { return !slices.Contains(other, key) })
}

// Answer mirrors Graph's accessPackageAnswerString, an answer to a policy
// question carried by an assignment request. JSON:
//
//	{"@odata.type": "#microsoft.graph.accessPackageAnswerString",
//	 "value": "…", "displayValue": "…", "answeredQuestion": {"id": "…"}}
type Answer struct {
	// QuestionID is the id of accessPackageAnswer.answeredQuestion.
	QuestionID string
	// Value is accessPackageAnswerString.value: the text, or the
	// actualValue of the chosen choice.
	Value string
	// DisplayValue is accessPackageAnswer.displayValue, the localized text
	// shown to approvers.
	DisplayValue string
}

type answerWire struct {
	ODataType        string                `json:"@odata.type"`
	Value            string                `json:"value"`
	DisplayValue     string                `json:"displayValue,omitempty"`
	AnsweredQuestion *answeredQuestionWire `json:"answeredQuestion,omitempty"`
}

type answeredQuestionWire struct {
	ODataType string `json:"@odata.type,omitempty"`
	ID        string `json:"id"`
}

// AnswerStringODataType is the "@odata.type" of an Answer.
const AnswerStringODataType = "#microsoft.graph.accessPackageAnswerString"

// MarshalJSON encodes a in Graph's shape.
func (a Answer) MarshalJSON() ([]byte, error) {
	return json.Marshal(answerWire{
		ODataType: AnswerStringODataType, Value: a.Value, DisplayValue: a.DisplayValue,
		AnsweredQuestion: &answeredQuestionWire{ID: a.QuestionID},
	})
}

// UnmarshalJSON decodes an answer strictly. "@odata.type" may be omitted;
// if present it must be accessPackageAnswerString. answeredQuestion may
// carry the question's "@odata.type" besides its "id". null is a no-op.
func (a *Answer) UnmarshalJSON(b []byte) error {
	const op = "DecodeAnswer"
	if isJSONNull(b) {
		return nil
	}
	v, err := decodeGeneric(b)
	if err != nil {
		return invalid(op, "", "malformed JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid(op, "", "must be a JSON object (an accessPackageAnswerString)")
	}
	if raw, ok := m["@odata.type"]; ok {
		if s, _ := raw.(string); s != AnswerStringODataType && s != AnswerStringODataType[1:] {
			return invalid(op, "@odata.type", "must be %q", AnswerStringODataType)
		}
	}
	if ie := shapeObject(m, reflect.TypeFor[answerWire](), "", func(string) bool { return true }); ie != nil {
		return wrapInvalid(op, ie)
	}
	if q, ok := m["answeredQuestion"].(map[string]any); ok {
		if raw, ok := q["@odata.type"]; ok {
			if s, _ := raw.(string); s == "" {
				return invalid(op, "answeredQuestion.@odata.type", "must be a string")
			} else if _, ok := parseQuestionODataType(s); !ok {
				return invalid(op, "answeredQuestion.@odata.type", "%q is not a question type", s)
			}
		}
	}
	var w answerWire
	if err := json.Unmarshal(b, &w); err != nil {
		return invalid(op, "", "%v", err)
	}
	*a = Answer{Value: w.Value, DisplayValue: w.DisplayValue}
	if w.AnsweredQuestion != nil {
		a.QuestionID = w.AnsweredQuestion.ID
	}
	return nil
}

// ---------------------------------------------------------------------------
// Policy JSON

// policyFields has AssignmentPolicy's fields without its methods.
type policyFields AssignmentPolicy

// accessPackageRef is the {"id": …} reference Graph uses for the
// accessPackage relationship.
type accessPackageRef struct {
	ID string `json:"id"`
}

// policyWire is the JSON shape of an AssignmentPolicy.
type policyWire struct {
	policyFields
	AccessPackage *accessPackageRef `json:"accessPackage,omitempty"`
}

// MarshalJSON encodes p in Graph's accessPackageAssignmentPolicy shape.
func (p AssignmentPolicy) MarshalJSON() ([]byte, error) {
	w := policyWire{policyFields: policyFields(p)}
	if p.AccessPackageID != "" {
		w.AccessPackage = &accessPackageRef{ID: p.AccessPackageID}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes Graph-shaped JSON strictly (unknown properties,
// wrong types, wrong "@odata.type" and unknown enum values are ErrInvalid
// with the field's path) and canonicalises the result as Clone does. It
// does not validate; DecodeAssignmentPolicy does both. null is a no-op.
func (p *AssignmentPolicy) UnmarshalJSON(b []byte) error {
	const op = "DecodeAssignmentPolicy"
	if isJSONNull(b) {
		return nil // as encoding/json does for null
	}
	v, err := decodeGeneric(b)
	if err != nil {
		return invalid(op, "", "The model is invalid: malformed JSON: %v", err)
	}
	if ie := shapeValue(v, policyWireType, ""); ie != nil {
		ie.Reason = "The model is invalid: " + ie.Reason
		return wrapInvalid(op, ie)
	}
	var w policyWire
	if err := json.Unmarshal(b, &w); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return err
		}
		return invalid(op, "", "The model is invalid: %v", err)
	}
	q := AssignmentPolicy(w.policyFields)
	if w.AccessPackage != nil {
		q.AccessPackageID = w.AccessPackage.ID
	}
	// Graph's defaults for what reviewSettings leaves out (§1.8).
	if rs, ok := v.(map[string]any)["reviewSettings"].(map[string]any); ok {
		for name, f := range map[string]*bool{
			"isRecommendationEnabled":         &q.ReviewSettings.IsRecommendationEnabled,
			"isReviewerJustificationRequired": &q.ReviewSettings.IsReviewerJustificationRequired,
		} {
			if _, given := rs[name]; !given {
				*f = true
			}
		}
	}
	*p = *q.Clone()
	return nil
}

// DecodeAssignmentPolicy decodes a Graph-shaped accessPackageAssignmentPolicy
// strictly and validates it. A body that doesn't match the model (unknown or
// unsupported property, wrong JSON type, wrong "@odata.type", unknown enum
// value, malformed duration or date) is rejected as Graph does with "The
// model is invalid"; a body that breaks a rule of the model fails Validate.
// Every error matches ErrInvalid and wraps an *InvalidError naming the
// field. The policy comes back in canonical form (see Clone).
//
// Questions must carry ids (answers refer to them); see
// AssignMissingQuestionIDs for bodies that come without.
func DecodeAssignmentPolicy(b []byte) (*AssignmentPolicy, error) {
	if isJSONNull(b) {
		return nil, invalid("DecodeAssignmentPolicy", "", "The model is invalid: the body must be a JSON object (an accessPackageAssignmentPolicy)")
	}
	var p AssignmentPolicy
	if err := p.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// AssignMissingQuestionIDs gives every question of p that has no id one
// from newID (Graph assigns question ids on creation).
func (p *AssignmentPolicy) AssignMissingQuestionIDs(newID func() string) {
	for i := range p.Questions {
		if p.Questions[i].ID == "" {
			p.Questions[i].ID = newID()
		}
	}
}

// IsAutoAssignment reports whether p is an auto-assignment policy (it has
// automaticRequestSettings).
func (p *AssignmentPolicy) IsAutoAssignment() bool { return p.AutomaticRequestSettings != nil }

// Clone returns a deep copy of p that shares no slices or pointers with it,
// in canonical form: empty lists become nil and times are in UTC without a
// monotonic reading. A canonical policy survives a JSON round trip
// unchanged (reflect.DeepEqual), so a state built from commands equals one
// replayed from events.
func (p *AssignmentPolicy) Clone() *AssignmentPolicy {
	if p == nil {
		return nil
	}
	c := *p
	c.SpecificAllowedTargets = cloneSubjectSets(p.SpecificAllowedTargets)
	if p.AutomaticRequestSettings != nil {
		a := *p.AutomaticRequestSettings
		c.AutomaticRequestSettings = &a
	}
	c.Expiration = cloneExpiration(p.Expiration)
	c.RequestorSettings.OnBehalfRequestors = cloneSubjectSets(p.RequestorSettings.OnBehalfRequestors)
	c.RequestApprovalSettings.Stages = nil
	for _, s := range p.RequestApprovalSettings.Stages {
		s.PrimaryApprovers = cloneSubjectSets(s.PrimaryApprovers)
		s.FallbackPrimaryApprovers = cloneSubjectSets(s.FallbackPrimaryApprovers)
		s.EscalationApprovers = cloneSubjectSets(s.EscalationApprovers)
		s.FallbackEscalationApprovers = cloneSubjectSets(s.FallbackEscalationApprovers)
		c.RequestApprovalSettings.Stages = append(c.RequestApprovalSettings.Stages, s)
	}
	c.ReviewSettings.PrimaryReviewers = cloneSubjectSets(p.ReviewSettings.PrimaryReviewers)
	c.ReviewSettings.FallbackReviewers = cloneSubjectSets(p.ReviewSettings.FallbackReviewers)
	c.ReviewSettings.Schedule.StartDateTime = canonicalTime(p.ReviewSettings.Schedule.StartDateTime)
	c.ReviewSettings.Schedule.Expiration = cloneExpiration(p.ReviewSettings.Schedule.Expiration)
	c.ReviewSettings.Schedule.Recurrence.Pattern.DaysOfWeek = cloneNonEmpty(p.ReviewSettings.Schedule.Recurrence.Pattern.DaysOfWeek)
	c.Questions = nil
	for _, q := range p.Questions {
		c.Questions = append(c.Questions, q.Clone())
	}
	c.CreatedDateTime = canonicalTime(p.CreatedDateTime)
	c.ModifiedDateTime = canonicalTime(p.ModifiedDateTime)
	return &c
}

// Clone returns a deep copy of q in canonical form (empty lists are nil).
func (q Question) Clone() Question {
	q.Localizations = cloneNonEmpty(q.Localizations)
	var choices []AnswerChoice
	for _, c := range q.Choices {
		c.Localizations = cloneNonEmpty(c.Localizations)
		choices = append(choices, c)
	}
	q.Choices = choices
	return q
}

func cloneSubjectSets(s []SubjectSet) []SubjectSet { return cloneNonEmpty(s) }

// cloneNonEmpty copies s, giving nil for an empty s.
func cloneNonEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func cloneExpiration(e ExpirationPattern) ExpirationPattern {
	e.EndDateTime = canonicalTime(e.EndDateTime)
	return e
}

// canonicalTime returns t in UTC without a monotonic reading; the zero
// time stays zero.
func canonicalTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// ---------------------------------------------------------------------------
// Strict shape checking.
//
// encoding/json ignores unknown fields inside custom unmarshalers, matches
// names case-insensitively and reports no JSON paths, so the input is first
// decoded into generic values and checked against the Go types' json tags.
// Only then is it unmarshalled, which cannot fail any more.

var (
	durationType       = reflect.TypeFor[Duration]()
	timeType           = reflect.TypeFor[time.Time]()
	subjectSetType     = reflect.TypeFor[SubjectSet]()
	questionType       = reflect.TypeFor[Question]()
	answerType         = reflect.TypeFor[Answer]()
	subjectSetWireType = reflect.TypeFor[subjectSetWire]()
	questionWireType   = reflect.TypeFor[questionWire]()
	policyWireType     = reflect.TypeFor[policyWire]()
	knownEnumType      = reflect.TypeFor[interface{ Known() bool }]()
)

// graphTypeNames maps the complex types that may carry an optional
// "@odata.type" in requests to Graph's type name.
var graphTypeNames = map[reflect.Type]string{
	policyWireType: "accessPackageAssignmentPolicy",
	reflect.TypeFor[AutomaticRequestSettings]():      "accessPackageAutomaticRequestSettings",
	reflect.TypeFor[ExpirationPattern]():             "expirationPattern",
	reflect.TypeFor[RequestorSettings]():             "accessPackageAssignmentRequestorSettings",
	reflect.TypeFor[ApprovalSettings]():              "accessPackageAssignmentApprovalSettings",
	reflect.TypeFor[ApprovalStage]():                 "accessPackageApprovalStage",
	reflect.TypeFor[ReviewSettings]():                "accessPackageAssignmentReviewSettings",
	reflect.TypeFor[EntitlementManagementSchedule](): "entitlementManagementSchedule",
	reflect.TypeFor[PatternedRecurrence]():           "patternedRecurrence",
	reflect.TypeFor[RecurrencePattern]():             "recurrencePattern",
	reflect.TypeFor[RecurrenceRange]():               "recurrenceRange",
	reflect.TypeFor[NotificationSettings]():          "accessPackageNotificationSettings",
	reflect.TypeFor[LocalizedText]():                 "accessPackageLocalizedText",
	reflect.TypeFor[AnswerChoice]():                  "accessPackageAnswerChoice",
	reflect.TypeFor[accessPackageRef]():              "accessPackage",
}

// graphTypeName returns X for "#microsoft.graph.X" or "microsoft.graph.X".
func graphTypeName(t string) (string, bool) {
	t = strings.TrimPrefix(t, "#")
	name, ok := strings.CutPrefix(t, "microsoft.graph.")
	if !ok || name == "" || strings.Contains(name, ".") {
		return "", false
	}
	return name, true
}

// isJSONNull reports whether b is the JSON literal null; UnmarshalJSON
// methods treat it as a no-op, as encoding/json does.
func isJSONNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// decodeGeneric decodes exactly one JSON value, numbers as json.Number.
func decodeGeneric(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func joinPath(path, key string) string {
	if key == "" {
		return path
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// wrapInvalid wraps an *InvalidError in an ErrInvalid *Error for op.
func wrapInvalid(op string, ie *InvalidError) error {
	return &Error{Op: op, Kind: ErrInvalid, Reason: ie.Error(), Err: ie}
}

// invalidReason returns the Reason of the *InvalidError in err, or
// err.Error().
func invalidReason(err error) string {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return err.Error()
}

type shapeField struct {
	index []int
	typ   reflect.Type
}

var shapeFieldCache sync.Map // reflect.Type → map[string]shapeField

// shapeFields returns the JSON names of t's fields, following embedded
// structs as encoding/json does.
func shapeFields(t reflect.Type) map[string]shapeField {
	if f, ok := shapeFieldCache.Load(t); ok {
		return f.(map[string]shapeField)
	}
	out := map[string]shapeField{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" && tag == "-" {
				continue
			}
			idx := append(slices.Clone(index), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out[name] = shapeField{index: idx, typ: f.Type}
		}
	}
	walk(t, nil)
	shapeFieldCache.Store(t, out)
	return out
}

// shapeObject checks the object m against struct type t: every key must be
// a field of t that allow accepts (or an "@odata.type" naming t), and every
// value must fit its field.
func shapeObject(m map[string]any, t reflect.Type, path string, allow func(string) bool) *InvalidError {
	fields := shapeFields(t)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := joinPath(path, k)
		f, ok := fields[k]
		if !ok || !allow(k) {
			if k == "@odata.type" {
				if ie := shapeODataType(m[k], t, p); ie != nil {
					return ie
				}
				continue
			}
			if k == "customExtensionStageSettings" && t == policyWireType {
				return &InvalidError{Field: p, Reason: "custom extensions are not supported yet"}
			}
			return &InvalidError{Field: p, Reason: "is not a property of this type that the library takes " +
				"(not in Graph v1.0, or a relationship such as catalog, which the access package implies)"}
		}
		if k == "@odata.type" {
			// Polymorphic types check their own discriminator.
			continue
		}
		if ie := shapeValue(m[k], f.typ, p); ie != nil {
			return ie
		}
	}
	return nil
}

func shapeODataType(v any, t reflect.Type, path string) *InvalidError {
	want, ok := graphTypeNames[t]
	if !ok {
		return &InvalidError{Field: path, Reason: "is not allowed here"}
	}
	s, ok := v.(string)
	if !ok {
		return &InvalidError{Field: path, Reason: "must be a string"}
	}
	if name, ok := graphTypeName(s); !ok || name != want {
		return &InvalidError{Field: path, Reason: fmt.Sprintf("%q is not %q", s, "#microsoft.graph."+want)}
	}
	return nil
}

// shapeValue checks the generic JSON value v against Go type t.
func shapeValue(v any, t reflect.Type, path string) *InvalidError {
	if v == nil {
		return nil // null leaves the Go value at its zero
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType:
		s, ok := v.(string)
		if !ok {
			return &InvalidError{Field: path, Reason: "must be an ISO-8601 duration string"}
		}
		if _, err := ParseDuration(s); err != nil {
			return &InvalidError{Field: path, Reason: invalidReasonDuration(err)}
		}
		return nil
	case timeType:
		s, ok := v.(string)
		if !ok {
			return &InvalidError{Field: path, Reason: "must be a date-time string"}
		}
		var tt time.Time
		if err := tt.UnmarshalText([]byte(s)); err != nil {
			return &InvalidError{Field: path, Reason: fmt.Sprintf("%q is not an RFC 3339 date-time", s)}
		}
		if y := tt.UTC().Year(); y < 1 || y > 9999 {
			return &InvalidError{Field: path, Reason: fmt.Sprintf("%q is out of range (years 0001–9999 UTC)", s)}
		}
		return nil
	case subjectSetType:
		return subjectSetShape(v, path)
	case questionType:
		return questionShape(v, path)
	case answerType:
		var a Answer
		b, _ := json.Marshal(v)
		if err := a.UnmarshalJSON(b); err != nil {
			var ie *InvalidError
			errors.As(err, &ie)
			return &InvalidError{Field: joinPath(path, ie.Field), Reason: ie.Reason}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return &InvalidError{Field: path, Reason: "must be a string"}
		}
		if s != "" && t.Implements(knownEnumType) {
			e := reflect.New(t).Elem()
			e.SetString(s)
			if !e.Interface().(interface{ Known() bool }).Known() {
				return &InvalidError{Field: path, Reason: fmt.Sprintf("%q is not a valid %s value", s, enumName(t))}
			}
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return &InvalidError{Field: path, Reason: "must be a boolean"}
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return &InvalidError{Field: path, Reason: "must be a number"}
		}
		if _, err := strconv.ParseInt(n.String(), 10, 32); err != nil {
			return &InvalidError{Field: path, Reason: fmt.Sprintf("%s is not a 32-bit integer", n)}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return &InvalidError{Field: path, Reason: "must be an array"}
		}
		for i, e := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e == nil {
				return &InvalidError{Field: p, Reason: "must not be null"}
			}
			if ie := shapeValue(e, t.Elem(), p); ie != nil {
				return ie
			}
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return &InvalidError{Field: path, Reason: "must be an object"}
		}
		return shapeObject(m, t, path, func(string) bool { return true })
	default:
		return &InvalidError{Field: path, Reason: "unsupported type"}
	}
	return nil
}

func invalidReasonDuration(err error) string {
	var de *DurationError
	if errors.As(err, &de) {
		return de.Error()
	}
	return err.Error()
}

// enumName returns Graph's name of an enum type, e.g. allowedTargetScope.
func enumName(t reflect.Type) string {
	n := t.Name()
	switch n {
	case "ReviewExpirationBehavior":
		return "accessReviewExpirationBehavior"
	case "QuestionKind":
		return "question type"
	}
	if n == "" {
		return "enum"
	}
	return strings.ToLower(n[:1]) + n[1:]
}
