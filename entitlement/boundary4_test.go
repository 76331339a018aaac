package entitlement

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tests that pin what a mutation review of the administration side
// (policy validation, the administrative commands, authorization and the
// reads) found unpinned.

// TestResourceRightsByDirectoryRole: a catalog owner's directory role
// decides which kinds of resource it may add (§3.1): Groups and Intune
// Administrators any group, Exchange Administrators Microsoft 365 groups,
// SharePoint Administrators Microsoft 365 groups and sites, (Cloud)
// Application Administrators applications.
func TestResourceRightsByDirectoryRole(t *testing.T) {
	cases := []struct {
		role    DirectoryRole
		allowed []string
	}{
		{GroupsAdministrator, []string{"security group", "M365 group"}},
		{IntuneAdministrator, []string{"security group", "M365 group"}},
		{ExchangeAdministrator, []string{"M365 group"}},
		{SharePointAdministrator, []string{"M365 group", "site"}},
		{ApplicationAdministrator, []string{"application"}},
		{CloudApplicationAdministrator, []string{"application"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.role), func(t *testing.T) {
			w := newWorld(t)
			ga := w.user("ga", GlobalAdministrator)
			actor := w.user("actor", tc.role)
			cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
			w.do(ga, CreateRoleAssignment{PrincipalID: actor.ID, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(cat)})
			m365 := nameID("group/M365")
			w.do(sys, PutGroup{Group: Group{ID: m365, DisplayName: "M365", MailEnabled: true, GroupTypes: []string{"Unified"}}})
			app := nameID("sp/app")
			w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: app, DisplayName: "App"}})
			specs := map[string]ResourceSpec{
				"security group": {OriginID: w.group("Security"), OriginSystem: OriginSystemAadGroup},
				"M365 group":     {OriginID: m365, OriginSystem: OriginSystemAadGroup},
				"application":    {OriginID: app, OriginSystem: OriginSystemAadApplication},
				"site": {OriginID: "https://contoso.sharepoint.com/sites/x", OriginSystem: OriginSystemSharePointOnline,
					Roles: []RoleSpec{{OriginID: "4"}}},
			}
			for kind, spec := range specs {
				_, err := w.try(actor, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: spec})
				if slices.Contains(tc.allowed, kind) {
					require.NoError(t, err, "%s adding a %s", tc.role, kind)
				} else {
					requireKind(t, err, ErrForbidden)
				}
			}
		})
	}
}

// TestPolicyNamingMissingSubjectsRefused: a policy may not name a user
// deleted from the directory, nor a service principal that does not exist.
func TestPolicyNamingMissingSubjectsRefused(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	targeting := func(scope AllowedTargetScope, target SubjectSet) CreateAssignmentPolicy {
		p := requestPolicy(w.id["P2"], "Targets")
		p.AllowedTargetScope, p.SpecificAllowedTargets = scope, []SubjectSet{target}
		return CreateAssignmentPolicy{Policy: p}
	}
	w.do(sys, DeleteUser{UserID: w.uid["delegate1"]})
	_, err := w.try(ga, targeting(ScopeSpecificDirectoryUsers, SubjectSet{Kind: SingleUser, UserID: w.uid["delegate1"]}))
	requireKind(t, err, ErrNotFound)
	w.do(ga, targeting(ScopeSpecificDirectoryUsers, SubjectSet{Kind: SingleUser, UserID: w.uid["plain"]}))

	_, err = w.try(ga, targeting(ScopeSpecificDirectoryServicePrincipals, SubjectSet{Kind: SingleServicePrincipal, ServicePrincipalID: nameID("sp/none")}))
	requireKind(t, err, ErrNotFound)
	w.do(ga, targeting(ScopeSpecificDirectoryServicePrincipals, SubjectSet{Kind: SingleServicePrincipal, ServicePrincipalID: w.uid["appRead"]}))
}

// TestTenantPolicyLimitBoundary: with one policy fewer than MaxPolicies in
// the tenant a policy is created; with exactly MaxPolicies it is refused.
func TestTenantPolicyLimitBoundary(t *testing.T) {
	w := adminWorld(t)
	s := w.state().Clone()
	for i := s.policies.Len(); i < MaxPolicies-1; i++ {
		s.putPolicy(&policyEntry{Policy: AssignmentPolicy{ID: nameID("filler/" + itoa(i)), AccessPackageID: nameID("package/filler")}})
	}
	create := CreateAssignmentPolicy{Policy: requestPolicy(w.id["P2"], "One more")}
	_, err := Decide(s, w.actors["GA"], t0, SeededIDs(7), create)
	require.NoError(t, err, "one below the limit")
	s.putPolicy(&policyEntry{Policy: AssignmentPolicy{ID: nameID("filler/last"), AccessPackageID: nameID("package/filler")}})
	_, err = Decide(s, w.actors["GA"], t0, SeededIDs(8), create)
	requireKind(t, err, ErrLimit)
}

// TestReplacePolicyWithAnotherID: the body of a replacement may leave the
// id out but not name another policy.
func TestReplacePolicyWithAnotherID(t *testing.T) {
	w := adminWorld(t)
	body := requestPolicy("", "Renamed")
	body.ID = nameID("policy/other")
	_, err := w.try(w.actors["GA"], ReplaceAssignmentPolicy{PolicyID: w.id["Pol1"], Policy: body})
	requireField(t, err, "id")
	body.ID = w.id["Pol1"]
	w.do(w.actors["GA"], ReplaceAssignmentPolicy{PolicyID: w.id["Pol1"], Policy: body})
}

// TestResourceUpdateCannotDropARoleInUse: an update of an application
// resource that leaves out the role a package grants is refused; one that
// keeps it is not.
func TestResourceUpdateCannotDropARoleInUse(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: w.id["appRes"], DisplayName: "Payroll",
		AppRoles: []AppRole{{ID: nameID("role/reader"), DisplayName: "Reader"}, {ID: nameID("role/writer"), DisplayName: "Writer"}}}})
	app := func(typ string, roles ...string) CreateResourceRequest {
		spec := ResourceSpec{OriginID: w.id["appRes"], OriginSystem: OriginSystemAadApplication}
		for _, r := range roles {
			spec.Roles = append(spec.Roles, RoleSpec{OriginID: nameID("role/" + r)})
		}
		return CreateResourceRequest{RequestType: typ, CatalogID: w.id["C"], Resource: spec}
	}
	w.do(ga, app(RequestTypeAdminAdd, "reader", "writer"))
	res := w.resourceByOrigin(w.id["C"], w.id["appRes"])
	w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: res.Roles[0].ID, ScopeID: res.Scopes[0].ID})
	_, err := w.try(ga, app(RequestTypeAdminUpdate, "writer"))
	requireKind(t, err, ErrConflict)
	w.do(ga, app(RequestTypeAdminUpdate, "reader"))
}

// TestApplicationWithoutOrganizationalAccountsRefused: an application
// signing in only personal Microsoft accounts is no resource (§8 row 7).
func TestApplicationWithoutOrganizationalAccountsRefused(t *testing.T) {
	w := adminWorld(t)
	personal := nameID("sp/personal")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: personal, DisplayName: "Personal", SignInAudience: "PersonalMicrosoftAccount"}})
	add := CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["C"],
		Resource: ResourceSpec{OriginID: personal, OriginSystem: OriginSystemAadApplication}}
	_, err := w.try(w.actors["GA"], add)
	requireField(t, err, "resource.originId")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: personal, DisplayName: "Personal", SignInAudience: "AzureADandPersonalMicrosoftAccount"}})
	w.do(w.actors["GA"], add)
}

// TestFedUserCannotBeTheirOwnManager: the directory feed, like SetManager,
// refuses a user who manages themselves.
func TestFedUserCannotBeTheirOwnManager(t *testing.T) {
	w := newWorld(t)
	id := nameID("user/self-managed")
	_, err := w.try(sys, PutUser{User: User{ID: id, AccountEnabled: true, ManagerID: id}})
	requireField(t, err, "manager")
}

// TestMoverTriggeredByAFedManagerChange: a manager changed by the
// directory feed (PutUser), not only by SetManager, runs a mover workflow
// that watches managerId.
func TestMoverTriggeredByAFedManagerChange(t *testing.T) {
	w, _ := workflowWorld(t)
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: moverWorkflow(true, "managerId")}).ID
	u, err := w.state().GetUser(sys, w.uid["alice"])
	require.NoError(t, err)
	u.ManagerID = w.uid["carol"]
	w.do(sys, PutUser{User: u})
	require.Len(t, w.runs(id), 1)
}

// TestResourceRequestsOfOneCatalog: a catalog's resource requests are its
// own, not those made in another catalog.
func TestResourceRequestsOfOneCatalog(t *testing.T) {
	w := adminWorld(t)
	s := w.state()
	inC, err := s.ResourceRequests(w.actors["GA"], w.id["C"])
	require.NoError(t, err)
	require.Len(t, inC, 2) // the fixture's G1 and G3
	inD, err := s.ResourceRequests(w.actors["otherOwner"], w.id["D"])
	require.NoError(t, err)
	require.Empty(t, inD)
}

// TestListExpiredAssignments: filtering by state expired lists the
// expired assignments without IncludeEnded, whichever index the other
// filters pick.
func TestListExpiredAssignments(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("frank", "P2", "Pol2")
	asg := w.getRequest(id).AssignmentID
	w.clock.t = w.clock.t.Add(31 * 24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Equal(t, AssignmentStateExpired, w.getAssignment(asg).State)
	s, ga := w.state(), w.actors["GA"]
	for _, f := range []AssignmentFilter{
		{State: AssignmentStateExpired},
		{State: AssignmentStateExpired, TargetID: w.uid["frank"]},
		{State: AssignmentStateExpired, AccessPackageID: w.id["P2"]},
	} {
		got, err := s.ListAssignments(ga, f)
		require.NoError(t, err)
		require.Len(t, got, 1, "%+v", f)
		require.Equal(t, asg, got[0].ID)
	}
	live, err := s.ListAssignments(ga, AssignmentFilter{TargetID: w.uid["frank"]})
	require.NoError(t, err)
	require.Empty(t, live)
}

// TestEscalationApproverSeesHiddenApprovers: approverInformationVisibility
// notVisible hides a stage's approvers from the requestor, not from an
// escalation approver of the stage.
func TestEscalationApproverSeesHiddenApprovers(t *testing.T) {
	w, _ := accessWorld(t)
	id, _ := escalatedRequest(w, "erin", func(st *ApprovalStage) { st.ApproverInformationVisibility = ApproverInformationNotVisible })
	s := w.state()
	seen, err := s.GetAssignmentRequest(w.actors["erin"], id)
	require.NoError(t, err)
	require.Equal(t, []string{w.uid["bob"]}, seen.Stages[0].Approvers)
	mine, err := s.GetAssignmentRequest(w.actors["alice"], id)
	require.NoError(t, err)
	require.Empty(t, mine.Stages[0].Approvers)
}

// TestAssignmentListingWithoutAnyRoleForbidden: a user holding no
// entitlement management role is refused a listing of assignments, with or
// without a package filter.
func TestAssignmentListingWithoutAnyRoleForbidden(t *testing.T) {
	w := adminWorld(t)
	s, plain := w.state(), w.actors["plain"]
	_, err := s.ListAssignments(plain, AssignmentFilter{})
	requireKind(t, err, ErrForbidden)
	_, err = s.ListAssignments(plain, AssignmentFilter{AccessPackageID: w.id["P1"]})
	requireKind(t, err, ErrForbidden)
}

// TestHiddenPackageNotOffered: a hidden package is left out of the
// packages a user may request, though its applicable policies still
// answer for a link straight to it.
func TestHiddenPackageNotOffered(t *testing.T) {
	w, _ := accessWorld(t)
	w.do(w.actors["GA"], UpdateAccessPackage{AccessPackageID: w.id["P2"], IsHidden: ptr(true)})
	s, alice := w.state(), w.actors["alice"]
	offer := s.AccessPackagesForRequestor(alice)
	require.Len(t, offer, 1)
	require.Equal(t, w.id["P1"], offer[0].AccessPackage.ID)
	reqs, err := s.ApplicablePolicyRequirements(alice, w.id["P2"])
	require.NoError(t, err)
	require.Len(t, reqs, 1)
}

// TestQuestionAndChoiceCapsBoundary: a policy takes exactly
// MaxQuestionsPerPolicy questions and a question exactly
// MaxChoicesPerQuestion choices; one more of either is refused.
func TestQuestionAndChoiceCapsBoundary(t *testing.T) {
	withQuestions := func(n, choices int) *AssignmentPolicy {
		p := testRequestPolicy()
		p.Questions = nil
		for i := range n {
			q := Question{Kind: TextInputQuestion, ID: "q" + itoa(i), Sequence: i, Text: "Why?"}
			if i == 0 && choices > 0 {
				q.Kind = MultipleChoiceQuestion
				for k := range choices {
					q.Choices = append(q.Choices, AnswerChoice{ActualValue: "v" + itoa(k)})
				}
			}
			p.Questions = append(p.Questions, q)
		}
		return p
	}
	require.NoError(t, withQuestions(MaxQuestionsPerPolicy, 0).Validate())
	requireField(t, withQuestions(MaxQuestionsPerPolicy+1, 0).Validate(), "questions")
	require.NoError(t, withQuestions(1, MaxChoicesPerQuestion).Validate())
	requireField(t, withQuestions(1, MaxChoicesPerQuestion+1).Validate(), "questions[0].choices")
}

// TestReviewRangeAndTimeZone: a range ending on the day the first review
// starts is accepted (that review starts); only UTC is a time zone the
// schedule takes.
func TestReviewRangeAndTimeZone(t *testing.T) {
	withRange := func(r RecurrenceRange) *AssignmentPolicy {
		p := testRequestPolicy()
		p.ReviewSettings.Schedule.Recurrence.Range = r
		return p
	}
	start := testRequestPolicy().ReviewSettings.Schedule.StartDateTime.Format(time.DateOnly)
	require.NoError(t, withRange(RecurrenceRange{Type: RangeEndDate, EndDate: start}).Validate())
	require.NoError(t, withRange(RecurrenceRange{Type: RangeNoEnd, RecurrenceTimeZone: "UTC"}).Validate())
	requireField(t, withRange(RecurrenceRange{Type: RangeNoEnd, RecurrenceTimeZone: "Pacific Standard Time"}).Validate(),
		"reviewSettings.schedule.recurrence.range.recurrenceTimeZone")
}

// TestSubjectKindsOutOfPlace: sponsors may approve but not review, and
// the requestor's manager names nobody who could ask on someone's behalf.
func TestSubjectKindsOutOfPlace(t *testing.T) {
	p := testRequestPolicy()
	p.ReviewSettings.PrimaryReviewers = []SubjectSet{{Kind: InternalSponsors}}
	requireField(t, p.Validate(), "reviewSettings.primaryReviewers[0].@odata.type")
	p = testRequestPolicy()
	p.RequestorSettings.EnableOnBehalfRequestorsToAddAccess = true
	p.RequestorSettings.OnBehalfRequestors = []SubjectSet{{Kind: RequestorManager, ManagerLevel: 1}}
	requireField(t, p.Validate(), "requestorSettings.onBehalfRequestors[0].@odata.type")
}
