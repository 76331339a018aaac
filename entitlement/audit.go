package entitlement

// activities maps each event type to the name of the audit activity it
// records: §6.1 of the domain specification for entitlement management, and
// the names of Entra's core directory audit log for the directory feed.
var activities = map[string]string{
	EventUserCreated:             "Add user",
	EventUserUpdated:             "Update user",
	EventUserAttributeChanged:    "Update user",
	EventUserManagerChanged:      "Set user manager",
	EventUserBlocked:             "Disable account",
	EventUserUnblocked:           "Enable account",
	EventUserDeleted:             "Delete user",
	EventSubjectLifecycleChanged: "Update access package subject",
	EventGroupCreated:            "Add group",
	EventGroupUpdated:            "Update group",
	EventGroupMemberAdded:        "Add member to group",
	EventGroupMemberRemoved:      "Remove member from group",
	EventGroupDeleted:            "Delete group",
	EventServicePrincipalCreated: "Add service principal",
	EventServicePrincipalUpdated: "Update service principal",
	EventServicePrincipalDeleted: "Remove service principal",

	EventCatalogCreated:                   "Create access package catalog",
	EventCatalogUpdated:                   "Update access package catalog",
	EventCatalogDeleted:                   "Delete access package catalog",
	EventResourceAdded:                    "Create resource request",
	EventResourceUpdated:                  "Update access package catalog resource",
	EventResourceRemoved:                  "Create resource remove request",
	EventAccessPackageCreated:             "Create access package",
	EventAccessPackageUpdated:             "Update access package",
	EventAccessPackageDeleted:             "Delete access package",
	EventResourceRoleScopeAdded:           "Update access package",
	EventResourceRoleScopeRemoved:         "Update access package",
	EventIncompatibleAccessPackageAdded:   "Create incompatible access package",
	EventIncompatibleAccessPackageRemoved: "Delete incompatible access package",
	EventIncompatibleGroupAdded:           "Create incompatible group",
	EventIncompatibleGroupRemoved:         "Delete incompatible group",
	EventAssignmentPolicyCreated:          "Create access package assignment policy",
	EventAssignmentPolicyReplaced:         "Update access package assignment policy",
	EventAssignmentPolicyDeleted:          "Delete access package assignment policy",
	EventConnectedOrganizationCreated:     "Create connected organization",
	EventConnectedOrganizationUpdated:     "Update connected organization",
	EventConnectedOrganizationDeleted:     "Delete connected organization",
	EventInternalSponsorAdded:             "Assign user as internal sponsor",
	EventInternalSponsorRemoved:           "Remove user as internal sponsor",
	EventExternalSponsorAdded:             "Assign user as external sponsor",
	EventExternalSponsorRemoved:           "Remove user as external sponsor",
	EventSettingsUpdated:                  "Update tenant setting",
	EventRoleAssignmentCreated:            "Add Entitlement Management role assignment",
	EventRoleAssignmentDeleted:            "Remove Entitlement Management role assignment",
}

// ActivityName returns the audit activity name of an event type, in the
// style of Entra's audit log ("Create access package catalog"), or "" for a
// type this package does not write.
func ActivityName(eventType string) string { return activities[eventType] }
