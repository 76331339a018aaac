package entitlement

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	jsonv2 "github.com/go-json-experiment/json"
)

// Event is a domain event: a fact about one stream, with its payload.
// Data is a pointer to the payload struct registered for Type.
type Event struct {
	Stream eventstore.StreamID
	Type   string
	Data   any
	// BySystem marks what entitlement management did by itself within
	// another actor's command: time-driven work that fell due (an expiry,
	// a time-out, an escalation, a review's start or results, an
	// automatic removal, a workflow's run), which the command records as
	// ProcessDue would have, the tasks of a workflow run on demand, and
	// automatic assignments made or removed as a change brings users into
	// or out of a policy's rule.
	// The Manager appends it with the system as its actor. It is not part
	// of the payload; DecodeEvent leaves it false.
	BySystem bool
}

// SchemaVersion returns the schema version of the payloads of eventType
// that this package writes: 1, except for the events of new requests,
// which are at 2 since they refer to the policy version they were
// submitted under instead of holding a copy of it, and for
// accessReviewStarted, at 2 since its items name their list of reviewers
// among the review's ReviewerSets instead of each listing it. DecodeEvent
// reads every version up to this one.
func SchemaVersion(eventType string) int {
	if _, ok := requestCreatedTypes[eventType]; ok || eventType == EventAccessReviewStarted {
		return 2
	}
	return 1
}

// Stream names, one stream per domain object.
func catalogStream(id string) eventstore.StreamID { return eventstore.StreamID("catalog/" + id) }
func packageStream(id string) eventstore.StreamID {
	return eventstore.StreamID("accessPackage/" + id)
}
func policyStream(id string) eventstore.StreamID {
	return eventstore.StreamID("assignmentPolicy/" + id)
}
func resourceStream(id string) eventstore.StreamID { return eventstore.StreamID("resource/" + id) }
func userStream(id string) eventstore.StreamID     { return eventstore.StreamID("user/" + id) }
func groupStream(id string) eventstore.StreamID    { return eventstore.StreamID("group/" + id) }
func spStream(id string) eventstore.StreamID {
	return eventstore.StreamID("servicePrincipal/" + id)
}
func orgStream(id string) eventstore.StreamID {
	return eventstore.StreamID("connectedOrganization/" + id)
}
func roleAssignmentStream(id string) eventstore.StreamID {
	return eventstore.StreamID("roleAssignment/" + id)
}

// SettingsStream is the stream of the tenant settings.
const SettingsStream eventstore.StreamID = "settings/tenant"

// Event types of the directory feed.
const (
	EventUserCreated             = "userCreated"
	EventUserUpdated             = "userUpdated"
	EventUserAttributeChanged    = "userAttributeChanged"
	EventUserManagerChanged      = "userManagerChanged"
	EventUserBlocked             = "userBlocked"
	EventUserUnblocked           = "userUnblocked"
	EventUserDeleted             = "userDeleted"
	EventSubjectLifecycleChanged = "accessPackageSubjectLifecycleChanged"
	EventGroupCreated            = "groupCreated"
	EventGroupUpdated            = "groupUpdated"
	EventGroupMemberAdded        = "groupMemberAdded"
	EventGroupMemberRemoved      = "groupMemberRemoved"
	EventGroupDeleted            = "groupDeleted"
	EventServicePrincipalCreated = "servicePrincipalCreated"
	EventServicePrincipalUpdated = "servicePrincipalUpdated"
	EventServicePrincipalDeleted = "servicePrincipalDeleted"
)

// Event types of administration.
const (
	EventCatalogCreated                   = "accessPackageCatalogCreated"
	EventCatalogUpdated                   = "accessPackageCatalogUpdated"
	EventCatalogDeleted                   = "accessPackageCatalogDeleted"
	EventResourceAdded                    = "accessPackageResourceAdded"
	EventResourceUpdated                  = "accessPackageResourceUpdated"
	EventResourceRemoved                  = "accessPackageResourceRemoved"
	EventAccessPackageCreated             = "accessPackageCreated"
	EventAccessPackageUpdated             = "accessPackageUpdated"
	EventAccessPackageDeleted             = "accessPackageDeleted"
	EventResourceRoleScopeAdded           = "accessPackageResourceRoleScopeAdded"
	EventResourceRoleScopeRemoved         = "accessPackageResourceRoleScopeRemoved"
	EventIncompatibleAccessPackageAdded   = "incompatibleAccessPackageAdded"
	EventIncompatibleAccessPackageRemoved = "incompatibleAccessPackageRemoved"
	EventIncompatibleGroupAdded           = "incompatibleGroupAdded"
	EventIncompatibleGroupRemoved         = "incompatibleGroupRemoved"
	EventAssignmentPolicyCreated          = "assignmentPolicyCreated"
	EventAssignmentPolicyReplaced         = "assignmentPolicyReplaced"
	EventAssignmentPolicyDeleted          = "assignmentPolicyDeleted"
	EventConnectedOrganizationCreated     = "connectedOrganizationCreated"
	EventConnectedOrganizationUpdated     = "connectedOrganizationUpdated"
	EventConnectedOrganizationDeleted     = "connectedOrganizationDeleted"
	EventInternalSponsorAdded             = "connectedOrganizationInternalSponsorAdded"
	EventInternalSponsorRemoved           = "connectedOrganizationInternalSponsorRemoved"
	EventExternalSponsorAdded             = "connectedOrganizationExternalSponsorAdded"
	EventExternalSponsorRemoved           = "connectedOrganizationExternalSponsorRemoved"
	EventSettingsUpdated                  = "entitlementManagementSettingsUpdated"
	EventRoleAssignmentCreated            = "roleAssignmentCreated"
	EventRoleAssignmentDeleted            = "roleAssignmentDeleted"
)

// UserPayload carries a whole user (EventUserCreated, EventUserUpdated).
type UserPayload struct {
	User User `json:"user"`
}

// UserAttributeChanged records one attribute of a user changing.
type UserAttributeChanged struct {
	UserID   string `json:"userId"`
	Name     string `json:"name"`
	OldValue string `json:"oldValue"`
	NewValue string `json:"newValue"`
}

// UserManagerChanged records a user's manager changing ("" = none).
type UserManagerChanged struct {
	UserID    string `json:"userId"`
	ManagerID string `json:"managerId"`
}

// UserRef names a user (EventUserBlocked, EventUserUnblocked).
type UserRef struct {
	UserID string `json:"userId"`
}

// UserDeleted records a user's deletion.
type UserDeleted struct {
	UserID          string    `json:"userId"`
	DeletedDateTime time.Time `json:"deletedDateTime"`
}

// SubjectLifecycleChanged records an accessPackageSubject's lifecycle change.
type SubjectLifecycleChanged struct {
	ObjectID         string `json:"objectId"`
	SubjectLifecycle string `json:"subjectLifecycle"`
}

// GroupPayload carries a group's properties and owners (EventGroupCreated,
// EventGroupUpdated); members change only through member events, so
// Members is ignored on update.
type GroupPayload struct {
	Group Group `json:"group"`
}

// GroupMember records a member joining or leaving a group.
type GroupMember struct {
	GroupID  string `json:"groupId"`
	MemberID string `json:"memberId"`
}

// ObjectRef names a deleted directory object or other object by id.
type ObjectRef struct {
	ID string `json:"id"`
}

// ServicePrincipalPayload carries a whole service principal.
type ServicePrincipalPayload struct {
	ServicePrincipal ServicePrincipal `json:"servicePrincipal"`
}

// CatalogCreated records a new catalog and the Catalog owner role
// assignment its creator receives (nil for the built-in General catalog and
// for catalogs created by the system).
type CatalogCreated struct {
	Catalog             Catalog         `json:"catalog"`
	OwnerRoleAssignment *RoleAssignment `json:"ownerRoleAssignment,omitempty"`
}

// CatalogUpdated carries the catalog after the update.
type CatalogUpdated struct {
	Catalog Catalog `json:"catalog"`
}

// ResourceRequestPayload carries a delivered resource request and the
// resource as it is after the request (for adminRemove, as it was).
type ResourceRequestPayload struct {
	Request ResourceRequest `json:"request"`
}

// AccessPackageCreated carries a new access package.
type AccessPackageCreated struct {
	AccessPackage AccessPackage `json:"accessPackage"`
}

// AccessPackageUpdated carries the package's editable properties after an update.
type AccessPackageUpdated struct {
	ID               string    `json:"id"`
	DisplayName      string    `json:"displayName"`
	Description      string    `json:"description"`
	IsHidden         bool      `json:"isHidden"`
	ModifiedDateTime time.Time `json:"modifiedDateTime"`
}

// ResourceRoleScopeChanged records a role scope added to or removed from a package.
type ResourceRoleScopeChanged struct {
	AccessPackageID   string            `json:"accessPackageId"`
	ResourceRoleScope ResourceRoleScope `json:"resourceRoleScope"`
}

// IncompatibilityChanged records an incompatibility link of a package being
// added or removed; OtherID is a package id or a group id.
type IncompatibilityChanged struct {
	AccessPackageID string `json:"accessPackageId"`
	OtherID         string `json:"otherId"`
}

// ConnectedOrganizationPayload carries a connected organization as it is
// after the change.
type ConnectedOrganizationPayload struct {
	ConnectedOrganization ConnectedOrganization `json:"connectedOrganization"`
}

// SponsorChanged records a sponsor joining or leaving a connected organization.
type SponsorChanged struct {
	ConnectedOrganizationID string `json:"connectedOrganizationId"`
	DirectoryObjectID       string `json:"directoryObjectId"`
}

// SettingsUpdated carries the tenant settings after an update.
type SettingsUpdated struct {
	Settings Settings `json:"settings"`
	// ModifiedDateTime is when the settings changed (absent in logs
	// written before it was recorded: such settings count from the start).
	ModifiedDateTime time.Time `json:"modifiedDateTime,omitzero"`
}

// RoleAssignmentPayload carries a role assignment created or deleted.
type RoleAssignmentPayload struct {
	RoleAssignment RoleAssignment `json:"roleAssignment"`
}

// registry maps every event type to a constructor of its payload.
var registry = map[string]func() any{
	EventUserCreated:                      func() any { return new(UserPayload) },
	EventUserUpdated:                      func() any { return new(UserPayload) },
	EventUserAttributeChanged:             func() any { return new(UserAttributeChanged) },
	EventUserManagerChanged:               func() any { return new(UserManagerChanged) },
	EventUserBlocked:                      func() any { return new(UserRef) },
	EventUserUnblocked:                    func() any { return new(UserRef) },
	EventUserDeleted:                      func() any { return new(UserDeleted) },
	EventSubjectLifecycleChanged:          func() any { return new(SubjectLifecycleChanged) },
	EventGroupCreated:                     func() any { return new(GroupPayload) },
	EventGroupUpdated:                     func() any { return new(GroupPayload) },
	EventGroupMemberAdded:                 func() any { return new(GroupMember) },
	EventGroupMemberRemoved:               func() any { return new(GroupMember) },
	EventGroupDeleted:                     func() any { return new(ObjectRef) },
	EventServicePrincipalCreated:          func() any { return new(ServicePrincipalPayload) },
	EventServicePrincipalUpdated:          func() any { return new(ServicePrincipalPayload) },
	EventServicePrincipalDeleted:          func() any { return new(ObjectRef) },
	EventCatalogCreated:                   func() any { return new(CatalogCreated) },
	EventCatalogUpdated:                   func() any { return new(CatalogUpdated) },
	EventCatalogDeleted:                   func() any { return new(ObjectRef) },
	EventResourceAdded:                    func() any { return new(ResourceRequestPayload) },
	EventResourceUpdated:                  func() any { return new(ResourceRequestPayload) },
	EventResourceRemoved:                  func() any { return new(ResourceRequestPayload) },
	EventAccessPackageCreated:             func() any { return new(AccessPackageCreated) },
	EventAccessPackageUpdated:             func() any { return new(AccessPackageUpdated) },
	EventAccessPackageDeleted:             func() any { return new(ObjectRef) },
	EventResourceRoleScopeAdded:           func() any { return new(ResourceRoleScopeChanged) },
	EventResourceRoleScopeRemoved:         func() any { return new(ResourceRoleScopeChanged) },
	EventIncompatibleAccessPackageAdded:   func() any { return new(IncompatibilityChanged) },
	EventIncompatibleAccessPackageRemoved: func() any { return new(IncompatibilityChanged) },
	EventIncompatibleGroupAdded:           func() any { return new(IncompatibilityChanged) },
	EventIncompatibleGroupRemoved:         func() any { return new(IncompatibilityChanged) },
	EventAssignmentPolicyCreated:          func() any { return new(AssignmentPolicyPayload) },
	EventAssignmentPolicyReplaced:         func() any { return new(AssignmentPolicyPayload) },
	EventAssignmentPolicyDeleted:          func() any { return new(ObjectRef) },
	EventConnectedOrganizationCreated:     func() any { return new(ConnectedOrganizationPayload) },
	EventConnectedOrganizationUpdated:     func() any { return new(ConnectedOrganizationPayload) },
	EventConnectedOrganizationDeleted:     func() any { return new(ObjectRef) },
	EventInternalSponsorAdded:             func() any { return new(SponsorChanged) },
	EventInternalSponsorRemoved:           func() any { return new(SponsorChanged) },
	EventExternalSponsorAdded:             func() any { return new(SponsorChanged) },
	EventExternalSponsorRemoved:           func() any { return new(SponsorChanged) },
	EventSettingsUpdated:                  func() any { return new(SettingsUpdated) },
	EventRoleAssignmentCreated:            func() any { return new(RoleAssignmentPayload) },
	EventRoleAssignmentDeleted:            func() any { return new(RoleAssignmentPayload) },
}

// EventTypes returns every event type this package writes, sorted.
func EventTypes() []string {
	ts := make([]string, 0, len(registry))
	for t := range registry {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// DecodeEvent turns a stored event into a domain event, decoding its payload
// into the struct registered for its type. Upcast old schema versions
// before calling it.
//
// Payloads are decoded with JSON v2 (github.com/go-json-experiment/json,
// the standard library's encoding/json/v2 from Go 1.27), 2.5 times faster
// than encoding/json, which writes them: member names are matched exactly,
// as this package writes them (a name in another case is ignored, like an
// unknown one), and a name given twice is an error. Policies, answers and
// durations decode themselves, with encoding/json.
func DecodeEvent(e eventstore.Event) (Event, error) {
	mk, ok := registry[e.Type]
	if !ok {
		return Event{}, fmt.Errorf("entitlement: unknown event type %q at position %d", e.Type, e.Position)
	}
	if v, want := e.SchemaVersion, SchemaVersion(e.Type); v > want {
		return Event{}, fmt.Errorf("entitlement: event %s at position %d has schema version %d, this version reads up to %d", e.Type, e.Position, v, want)
	}
	data := mk()
	if err := jsonv2.Unmarshal(e.Payload, data); err != nil {
		return Event{}, fmt.Errorf("entitlement: decode %s at position %d: %w", e.Type, e.Position, err)
	}
	return Event{Stream: e.Stream, Type: e.Type, Data: data}, nil
}

// encode turns a domain event into an event to append.
func (e Event) encode(now time.Time, md eventstore.Metadata) (eventstore.NewEvent, error) {
	if _, ok := registry[e.Type]; !ok {
		return eventstore.NewEvent{}, fmt.Errorf("entitlement: unknown event type %q", e.Type)
	}
	p, err := json.Marshal(e.Data)
	if err != nil {
		return eventstore.NewEvent{}, fmt.Errorf("entitlement: encode %s: %w", e.Type, err)
	}
	return eventstore.NewEvent{
		Stream: e.Stream, Type: e.Type, SchemaVersion: SchemaVersion(e.Type),
		OccurredAt: now, Metadata: md, Payload: p,
	}, nil
}

// primaryID returns the id of the object an event is about: the id the
// command that recorded it reports in Result.ID.
func primaryID(e Event) string {
	switch d := e.Data.(type) {
	case *ResourceRequestPayload:
		return d.Request.ID
	case *ResourceRoleScopeChanged:
		return d.ResourceRoleScope.ID
	case *SettingsUpdated:
		return ""
	}
	_, id, _ := strings.Cut(string(e.Stream), "/")
	return id
}

// ValidTime returns the instant from which an event's fact holds in the
// world: for the events of time-driven work, which ProcessDue records
// later than they fell due, the instant inside the payload (an expiry's
// expiredDateTime, a time-out's or an outcome's dateTime, when a stage
// opened, escalated or was decided, when an assignment was created, when
// an expiry notice fell due, when a workflow's run started or was
// scheduled or canceled, when an automatic removal or a guest's lifecycle
// change was decided, when an access review started, was decided or
// closed with its results applied); for every other event, occurredAt, the
// time of the decision that recorded it.
func ValidTime(e Event, occurredAt time.Time) time.Time {
	t := time.Time{}
	switch d := e.Data.(type) {
	case *AssignmentExpired:
		t = d.ExpiredDateTime
	case *RequestChanged:
		t = d.DateTime
	case *ApprovalStagePayload:
		t = d.Stage.OpenedDateTime
		if e.Type == EventApprovalStageEscalated && d.Stage.EscalatedDateTime != nil {
			t = *d.Stage.EscalatedDateTime
		}
	case *ApprovalDecision:
		t = d.ReviewedDateTime
	case *AssignmentDelivering:
		t = d.Assignment.CreatedDateTime
	case *AssignmentExtended:
		t = d.DateTime
	case *AssignmentNotice:
		if e.Type == EventAssignmentFourteenDaysBeforeExpiration {
			t = d.EndDateTime.Add(-14 * 24 * time.Hour)
		} else {
			t = d.EndDateTime.Add(-24 * time.Hour)
		}
	case *AssignmentRequestPayload:
		t = d.Request.CreatedDateTime
	case *AutomaticRemoval:
		t = d.DateTime
	case *ScheduledRun:
		t = d.ScheduledDateTime
	case *WorkflowRunCanceled:
		t = d.DateTime
	case *TaskProcessingResult:
		t = d.StartedDateTime
	case *UserProcessingResult:
		t = d.StartedDateTime
	case *GuestLifecycleChanged:
		t = d.DateTime
	case *AccessReviewStarted:
		t = d.Review.StartDateTime
	case *AccessReviewDecision:
		t = d.ReviewedDateTime
	case *AccessReviewApplied:
		t = d.DateTime
	}
	if t.IsZero() || t.After(occurredAt) {
		return occurredAt.UTC()
	}
	return t.UTC()
}
