// Package entitlement is accessledger's domain: entitlement management as
// Microsoft Entra ID has it (catalogs, resources, access packages,
// assignment policies, requests, approvals, assignments, connected
// organizations and delegation), modelled as commands that are decided
// against a State and events that evolve it.
//
// Deciding is a pure function of the state, the command, the actor and the
// time; applying events is the only way the state changes, so replaying the
// log gives back exactly the same state. Names and enum values follow
// Microsoft Graph v1.0.
//
// # Commands and events
//
// A command is a plain struct named after the Graph operation it stands for
// (CreateCatalog, CreateResourceRequest, CreateAccessPackage,
// AddResourceRoleScope, CreateAssignmentPolicy, CreateRoleAssignment …).
// The directory the library decides with (users, groups, service
// principals) is fed by the embedding program through commands too
// (PutUser, SetUserAttribute, AddGroupMember, BlockUser, DeleteUser …).
// Decide turns a command into events, or into an *Error whose kind is one
// of ErrForbidden, ErrNotFound, ErrInvalid, ErrConflict and ErrLimit.
// Every accepted administrative command records one event of its own,
// whose audit activity name ActivityName gives. Before it come the system's
// events of the work that fell due by then and that the command depends
// on (see below), and after it the system's events of what entitlement
// management does by itself in consequence (an automatic assignment
// policy's systemAdd and systemRemove requests, workflow runs scheduled).
//
// # Authorization
//
// Every command and every read takes an Actor: a user with directory roles,
// an application with application permissions, or the system. Commands are
// checked against the permissions matrix of entitlement management: Global
// Administrators and Identity Governance Administrators manage everything;
// the catalog creator, catalog owner, catalog reader, access package
// manager and access package assignment manager roles are role assignments
// in the State, held directly or through group membership. An application
// with EntitlementManagement.ReadWrite.All acts as an administrator except
// for resources in catalogs and packages and for auto-assignment policies;
// with Read.All it reads everything. Adding a resource also needs rights
// over the group, application or site.
//
// # Requests, approvals and assignments
//
// Access is asked for with CreateAssignmentRequest (userAdd, userUpdate,
// userRemove, adminAdd, adminUpdate, adminRemove, systemAdd, systemUpdate,
// systemRemove, onBehalfAdd), decided by approvers with UpdateApprovalStage,
// and granted as an Assignment whose schedule the policy caps. A request
// records the version of the policy it was submitted under (the State
// keeps every version) and follows that version's approval stages and
// expiration to the end: a later change to the policy affects only later
// requests. Each
// approval stage records the approvers resolved when it opened (the
// requestor and the target never among them; the fallback approvers when
// nobody else remains).
//
// # Automatic assignment
//
// An assignment policy with AutomaticRequestSettings assigns its package
// to every user its attributeRuleMembers rule matches (package
// entitlement/rule has the rule language), through systemAdd requests, in
// the decision that makes them match: creating or replacing the policy
// (every user evaluated once), creating or replacing a user, unblocking or
// deleting one, or changing an attribute (only the rules that read it are
// evaluated). A user who stops matching loses the assignment through a
// systemRemove request after gracePeriodBeforeAccessRemoval, if the policy
// removes access, unless they match again before; deleting the policy
// removes its assignments. A matching user who cannot be assigned (blocked,
// holding an incompatible package, in a catalog that is not published, a
// limit reached) is left out until their next change, the catalog's
// publication or the removal of an incompatibility of the package.
//
// # Lifecycle workflows, access reviews and external users
//
// Joiner, mover and leaver workflows (CreateWorkflow) run access package
// tasks for users on their hire date, leave date or attribute change, in
// ProcessDue, or on demand (ActivateWorkflow). Policies with review
// settings have their assignments reviewed on schedule (RecordReviewDecision,
// StopAccessReview). People outside the organization request by email as
// ExternalActor and become governed guests on approval; a governed guest
// who loses their last assignment is blocked and deleted as the settings
// in force then say.
//
// Time-driven work (escalation, automatic denial, scheduled starts, expiry
// notices, expiry, automatic removals, workflow runs, access reviews,
// guest deletions) happens on its own only in Manager.ProcessDue, which
// processes everything due up to an instant. A command does not wait for
// it: it first records, as the system's and as of when it fell due, the
// work that fell due by its time and was not recorded yet (as AdvanceTime
// would), and is decided on the result, so that no command depends on
// how lately ProcessDue ran. Delivery to the systems that hold the
// resources goes through the Deliverer the embedding program supplies; the
// Manager records each outcome as events through the RecordDelivery
// command, so replay never calls it. Effective access is the union of
// assignments: a role is revoked only when no other non-ended assignment of
// the target grants it.
//
// # Manager
//
// A Manager ties the State to an event log: it replays the log on start,
// decides each command on the state with the commands still being written
// applied, queues the append to the store's group commit chained on the last
// event it was decided after, and returns once it is durable; if an append
// fails or another writer got there first, the commands decided after it
// are decided again. Readers get an immutable snapshot (State) in O(1). It
// also writes the built-in General catalog into a log that lacks it.
package entitlement
