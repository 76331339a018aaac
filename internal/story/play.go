package story

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
)

// teller executes the story's commands and tells what they did. The first
// error stops the story: every later step does nothing.
type teller struct {
	names map[string]string // display names of the packages the story made
	ctx   context.Context
	m     *entitlement.Manager
	clock *Clock
	w     io.Writer
	err   error
}

func (t *teller) scenario(title string) {
	if t.err == nil {
		fmt.Fprintf(t.w, "\n## %s\n", title)
	}
}

func (t *teller) say(format string, args ...any) {
	if t.err == nil {
		fmt.Fprintf(t.w, "   %s\n", fmt.Sprintf(format, args...))
	}
}

// at moves the clock.
func (t *teller) at(when time.Time) { t.clock.set(when) }

func (t *teller) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// do executes a command as who, printing one line per event: when, who,
// and the audit activity.
func (t *teller) do(who string, a entitlement.Actor, cmd entitlement.Command) entitlement.Result {
	if t.err != nil {
		return entitlement.Result{}
	}
	r, err := t.m.Execute(t.ctx, a, cmd)
	if err != nil {
		t.fail(fmt.Errorf("%s: %T: %w", who, cmd, err))
		return r
	}
	t.print(who, r.Events)
	t.print("system", r.Delivery)
	return r
}

// quietly executes a command without telling it.
func (t *teller) quietly(a entitlement.Actor, cmd entitlement.Command) {
	if t.err != nil {
		return
	}
	if _, err := t.m.Execute(t.ctx, a, cmd); err != nil {
		t.fail(fmt.Errorf("%T: %w", cmd, err))
	}
}

// refused executes a command that the story expects to be refused with
// want, and says so.
func (t *teller) refused(who string, a entitlement.Actor, cmd entitlement.Command, want error) {
	if t.err != nil {
		return
	}
	_, err := t.m.Execute(t.ctx, a, cmd)
	if !errors.Is(err, want) {
		t.fail(fmt.Errorf("%s: %T: want %v, got %v", who, cmd, want, err))
		return
	}
	t.say("%s is refused, and nothing is written: %v", who, err)
}

func (t *teller) print(who string, events []eventstore.Event) {
	for _, e := range events {
		fmt.Fprintf(t.w, "   %s  %-7s %s\n", t.clock.Now().Format("Mon 02 Jan 15:04"), who, entitlement.ActivityName(e.Type))
	}
}

// processDue runs the time-driven work up to now.
func (t *teller) processDue() {
	if t.err != nil {
		return
	}
	r, err := t.m.ProcessDue(t.ctx, t.clock.Now())
	if err != nil {
		t.fail(fmt.Errorf("ProcessDue: %w", err))
		return
	}
	t.print("system", r.Events)
	t.print("system", r.Delivery)
}

// memberRole returns the Member role and the scope of a group resource of
// a catalog.
func (t *teller) memberRole(a entitlement.Actor, catalogID, groupID string) Role {
	if t.err != nil {
		return Role{}
	}
	res, err := t.m.State().ResourcesOfCatalog(a, catalogID)
	if err != nil {
		t.fail(err)
		return Role{}
	}
	for _, r := range res {
		if r.OriginID != groupID {
			continue
		}
		for _, role := range r.Roles {
			if role.DisplayName == "Member" {
				return Role{ResourceID: r.ID, RoleID: role.ID, ScopeID: r.Scopes[0].ID}
			}
		}
	}
	t.fail(fmt.Errorf("no Member role of group %s in catalog %s", groupID, catalogID))
	return Role{}
}

// pendingStage returns the stage of a request that waits for an approver.
func (t *teller) pendingStage(approver entitlement.Actor, requestID string) string {
	if t.err != nil {
		return ""
	}
	for _, p := range t.m.State().ApprovalsForApprover(approver) {
		if p.Request.ID == requestID {
			return p.Stage.ID
		}
	}
	t.fail(fmt.Errorf("request %s does not wait for %s", requestID, approver.ID))
	return ""
}

// openStage returns the open stage of a requestor's request.
func (t *teller) openStage(requestor entitlement.Actor, requestID string) string {
	if t.err != nil {
		return ""
	}
	for _, r := range t.m.State().MyRequests(requestor) {
		if r.ID == requestID && len(r.Stages) > 0 {
			return r.Stages[len(r.Stages)-1].ID
		}
	}
	t.fail(fmt.Errorf("request %s has no open stage", requestID))
	return ""
}

func (t *teller) assignmentOf(target entitlement.Actor, packageID string) string {
	if t.err != nil {
		return ""
	}
	for _, a := range t.m.State().MyAssignments(target) {
		if a.AccessPackageID == packageID {
			return a.ID
		}
	}
	t.fail(fmt.Errorf("%s has no assignment of %s", target.ID, packageID))
	return ""
}

// myAccess tells what a user sees in My Access.
func (t *teller) myAccess(name string, a entitlement.Actor) {
	if t.err != nil {
		return
	}
	s := t.m.State()
	var pkgs []string
	for _, asg := range s.MyAssignments(a) {
		name := t.names[asg.AccessPackageID]
		end := "no end"
		if e, ok := asg.End(); ok {
			end = "until " + e.Format("Mon 02 Jan")
		}
		pkgs = append(pkgs, fmt.Sprintf("%s (%s, %s)", name, asg.State, end))
	}
	if len(pkgs) == 0 {
		pkgs = []string{"nothing"}
	}
	t.say("%s's active access packages: %s; resource roles held: %d", name, strings.Join(pkgs, ", "), len(s.EffectiveAccess(a, a.ID)))
}

// workflowRuns tells what a lifecycle workflow's runs did.
func (t *teller) workflowRuns(a entitlement.Actor, id, name string) {
	if t.err != nil {
		return
	}
	res, err := t.m.State().WorkflowUserProcessingResults(a, id)
	if err != nil {
		t.fail(err)
		return
	}
	for _, r := range res {
		var tasks []string
		for _, tr := range r.TaskProcessingResults {
			n := map[int]string{0: "no request", 1: "1 request"}[len(tr.RequestIDs)]
			if n == "" {
				n = fmt.Sprintf("%d requests", len(tr.RequestIDs))
			}
			tasks = append(tasks, fmt.Sprintf("%s: %s, %s", tr.TaskDisplayName, tr.ProcessingStatus, n))
		}
		u, err := t.m.State().GetUser(a, r.SubjectID)
		if err != nil {
			t.fail(err)
			return
		}
		t.say("%s ran for %s on %s, version %d: %s", name, u.DisplayName, r.StartedDateTime.Format("Mon 02 Jan 15:04"),
			r.WorkflowVersion, strings.Join(tasks, "; "))
	}
}

// Play plays the story on the log, telling it to w, and returns what it
// made. The log must be empty, and should take its time from clock.Now.
func Play(ctx context.Context, log eventstore.Store, clock *Clock, w io.Writer) (Cast, error) {
	d := &deliverer{failing: map[string]bool{}}
	m, err := entitlement.NewManager(ctx, log, options(clock, d))
	if err != nil {
		return Cast{}, err
	}
	t := &teller{ctx: ctx, m: m, clock: clock, w: w, names: map[string]string{}}
	var c Cast
	day := func(n int, hour int) time.Time { return Start.AddDate(0, 0, n).Add(time.Duration(hour-9) * time.Hour) }

	sys := entitlement.SystemActor()
	ada := entitlement.UserActor(AdaID, entitlement.GlobalAdministrator)
	carol, olivia, pete := entitlement.UserActor(CarolID), entitlement.UserActor(OliviaID), entitlement.UserActor(PeteID)
	mark, anna, ben, dave := entitlement.UserActor(MarkID), entitlement.UserActor(AnnaID), entitlement.UserActor(BenID), entitlement.UserActor(DaveID)
	app := entitlement.AppActor(AppID, entitlement.EntitlementManagementReadWriteAll)
	reader := entitlement.AppActor(ReaderID)

	t.scenario("The directory, as the embedding program feeds it")
	for _, u := range []entitlement.User{
		{ID: AdaID, DisplayName: "Ada Admin", AccountEnabled: true, Department: "IT"},
		{ID: CarolID, DisplayName: "Carol Chen", AccountEnabled: true, Department: "Sales"},
		{ID: OliviaID, DisplayName: "Olivia Ortiz", AccountEnabled: true, Department: "Sales"},
		{ID: PeteID, DisplayName: "Pete Park", AccountEnabled: true, Department: "Sales"},
		{ID: MarkID, DisplayName: "Mark Miller", AccountEnabled: true, Department: "Sales"},
		{ID: AnnaID, DisplayName: "Anna Adams", AccountEnabled: true, Department: "Sales", ManagerID: MarkID},
		{ID: BenID, DisplayName: "Ben Brown", AccountEnabled: true, Department: "Sales", ManagerID: MarkID},
		{ID: DaveID, DisplayName: "Dave Diaz", AccountEnabled: true, Department: "Sales", ManagerID: MarkID},
		{ID: FionaID, DisplayName: "Fiona Fischer", AccountEnabled: true, Department: "Finance"},
	} {
		t.quietly(sys, entitlement.PutUser{User: u})
	}
	for _, g := range []entitlement.Group{
		{ID: SalesTeamID, DisplayName: "Sales team", SecurityEnabled: true, Owners: []string{CarolID}},
		{ID: CRMUsersID, DisplayName: "CRM users", SecurityEnabled: true, Owners: []string{CarolID}},
		{ID: PaymentsID, DisplayName: "Payments approvers", SecurityEnabled: true},
		{ID: ExpensesID, DisplayName: "Expense users", SecurityEnabled: true},
	} {
		t.quietly(sys, entitlement.PutGroup{Group: g})
	}
	t.quietly(sys, entitlement.PutServicePrincipal{ServicePrincipal: entitlement.ServicePrincipal{ID: AppID, DisplayName: "HR provisioning"}})
	t.quietly(sys, entitlement.PutServicePrincipal{ServicePrincipal: entitlement.ServicePrincipal{ID: ReaderID, DisplayName: "Access reporting"}})
	t.say("9 users (Ada Admin, Carol, Olivia, Pete, Mark the sales manager, Anna, Ben and Dave in sales, Fiona in finance),")
	t.say("4 groups (Sales team, CRM users, Payments approvers, Expense users) and 2 applications (HR provisioning, Access reporting).")

	t.scenario("Administrator: delegate management of resources (catalog creator)")
	t.do("Ada", ada, entitlement.CreateRoleAssignment{PrincipalID: CarolID, RoleDefinitionID: entitlement.RoleCatalogCreator,
		AppScopeID: entitlement.TenantScope})
	t.say("Carol may now create catalogs; she owns each one she creates.")

	t.scenario("Catalog creator and owner: a catalog, a co-owner, resources")
	c.SalesCatalog = t.do("Carol", carol, entitlement.CreateCatalog{DisplayName: "Sales", Description: "What the sales team works with"}).ID
	t.do("Carol", carol, entitlement.CreateRoleAssignment{PrincipalID: OliviaID, RoleDefinitionID: entitlement.RoleCatalogOwner,
		AppScopeID: entitlement.CatalogScope(c.SalesCatalog)})
	for _, g := range []string{SalesTeamID, CRMUsersID} {
		t.do("Carol", carol, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: c.SalesCatalog,
			Resource: entitlement.ResourceSpec{OriginID: g, OriginSystem: entitlement.OriginSystemAadGroup}})
	}
	t.refused("Mark", mark, entitlement.CreateAccessPackage{CatalogID: c.SalesCatalog, DisplayName: "Mark's package"}, entitlement.ErrForbidden)

	t.scenario("Catalog owner: delegate management of access packages")
	t.do("Olivia", olivia, entitlement.CreateRoleAssignment{PrincipalID: PeteID, RoleDefinitionID: entitlement.RoleAccessPackageManager,
		AppScopeID: entitlement.CatalogScope(c.SalesCatalog)})

	t.scenario("Access package manager: let employees request access, with approval and expiry")
	c.SalesTools = t.do("Pete", pete, entitlement.CreateAccessPackage{CatalogID: c.SalesCatalog, DisplayName: "Sales tools",
		Description: "Membership of the Sales team"}).ID
	t.names[c.SalesTools] = "Sales tools"
	c.SalesTeam = t.memberRole(pete, c.SalesCatalog, SalesTeamID)
	t.do("Pete", pete, entitlement.AddResourceRoleScope{AccessPackageID: c.SalesTools, RoleID: c.SalesTeam.RoleID, ScopeID: c.SalesTeam.ScopeID})
	employees := entitlement.AssignmentPolicy{
		DisplayName: "Employees", Description: "Sales employees, approved by their manager",
		AccessPackageID: c.SalesTools, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true, EnableTargetsToSelfUpdateAccess: true,
			EnableTargetsToSelfRemoveAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, IsRequestorJustificationRequired: true,
			Stages: []entitlement.ApprovalStage{{
				DurationBeforeAutomaticDenial: entitlement.DurationDays(14), IsApproverJustificationRequired: true,
				PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: 1}},
			}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(30)},
	}
	policy := t.do("Pete", pete, entitlement.CreateAssignmentPolicy{Policy: employees}).ID
	t.say("Assignments last 30 days; a request waits 14 days for the requestor's manager.")

	t.scenario("Requestor and approver in My Access")
	t.at(day(1, 10))
	annaReq := t.do("Anna", anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.SalesTools, AssignmentPolicyID: policy, Justification: "Joining the sales team"}).ID
	t.refused("Anna approving her own request", anna, entitlement.UpdateApprovalStage{ApprovalID: annaReq,
		StageID: t.openStage(anna, annaReq), ReviewResult: entitlement.DecisionApprove, Justification: "I approve myself"}, entitlement.ErrForbidden)
	benReq := t.do("Ben", ben, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.SalesTools, AssignmentPolicyID: policy, Justification: "Covering for Anna"}).ID
	daveReq := t.do("Dave", dave, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.SalesTools, AssignmentPolicyID: policy, Justification: "Trade fair next month"}).ID
	t.at(day(1, 14))
	t.do("Mark", mark, entitlement.UpdateApprovalStage{ApprovalID: annaReq, StageID: t.pendingStage(mark, annaReq),
		ReviewResult: entitlement.DecisionApprove, Justification: "Welcome aboard"})
	t.do("Mark", mark, entitlement.UpdateApprovalStage{ApprovalID: benReq, StageID: t.pendingStage(mark, benReq),
		ReviewResult: entitlement.DecisionDeny, Justification: "Anna is not away yet"})
	t.at(day(2, 9))
	t.do("Dave", dave, entitlement.CancelAssignmentRequest{RequestID: daveReq})

	t.scenario("Requestor: view the resources you already have access to")
	t.myAccess("Anna", anna)
	t.myAccess("Ben", ben)

	t.scenario("Administrator: a second catalog, direct assignment, and separation of duties")
	t.at(day(7, 9))
	c.FinanceCatalog = t.do("Ada", ada, entitlement.CreateCatalog{DisplayName: "Finance"}).ID
	t.do("Ada", ada, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: c.FinanceCatalog,
		Resource: entitlement.ResourceSpec{OriginID: PaymentsID, OriginSystem: entitlement.OriginSystemAadGroup}})
	c.Payments = t.do("Ada", ada, entitlement.CreateAccessPackage{CatalogID: c.FinanceCatalog, DisplayName: "Payments"}).ID
	t.names[c.Payments] = "Payments"
	payRole := t.memberRole(ada, c.FinanceCatalog, PaymentsID)
	t.do("Ada", ada, entitlement.AddResourceRoleScope{AccessPackageID: c.Payments, RoleID: payRole.RoleID, ScopeID: payRole.ScopeID})
	direct := t.do("Ada", ada, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Direct assignment", AccessPackageID: c.Payments, AllowedTargetScope: entitlement.ScopeNotSpecified,
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationNoExpiration}}}).ID
	t.do("Ada", ada, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminAdd, AccessPackageID: c.Payments,
		AssignmentPolicyID: direct, TargetID: FionaID})
	t.do("Ada", ada, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminAdd, AccessPackageID: c.Payments,
		AssignmentPolicyID: direct, TargetID: AnnaID, Justification: "Helps with month-end invoicing"})
	t.do("Ada", ada, entitlement.AddIncompatibleAccessPackage{AccessPackageID: c.Payments, IncompatibleAccessPackageID: c.SalesTools})
	t.say("Payments and Sales tools are now incompatible; Anna, who holds both, shows in the conflicts report.")

	t.scenario("Administrator and access package manager: collaborate with an external partner organization")
	if t.err == nil {
		st, err := t.m.State().Settings(ada)
		if err != nil {
			t.fail(err)
		}
		t.say("External user lifecycle settings: %s, deleted after %s.", st.ExternalUserLifecycleAction, st.DurationUntilExternalUserDeletedAfterBlocked)
	}
	c.Contoso = t.do("Ada", ada, entitlement.CreateConnectedOrganization{DisplayName: "Contoso", Description: "Our reseller",
		State:           entitlement.ConnectedOrganizationConfigured,
		IdentitySources: []entitlement.IdentitySource{{ODataType: entitlement.IdentitySourceDomain, DomainName: "contoso.com", DisplayName: "Contoso"}}}).ID
	t.do("Ada", ada, entitlement.AddConnectedOrganizationSponsor{ConnectedOrganizationID: c.Contoso, DirectoryObjectID: MarkID})
	c.PartnerPortal = t.do("Pete", pete, entitlement.CreateAccessPackage{CatalogID: c.SalesCatalog, DisplayName: "Partner portal"}).ID
	t.names[c.PartnerPortal] = "Partner portal"
	t.do("Pete", pete, entitlement.AddResourceRoleScope{AccessPackageID: c.PartnerPortal, RoleID: c.SalesTeam.RoleID, ScopeID: c.SalesTeam.ScopeID})
	contosoPolicy := t.do("Pete", pete, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Contoso users", AccessPackageID: c.PartnerPortal, AllowedTargetScope: entitlement.ScopeSpecificConnectedOrganizationUsers,
		SpecificAllowedTargets: []entitlement.SubjectSet{{Kind: entitlement.ConnectedOrganizationMembers, ConnectedOrganizationID: c.Contoso}},
		RequestorSettings:      entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []entitlement.ApprovalStage{{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(7),
			PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.InternalSponsors}},
		}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(90)},
	}}).ID
	anyPartner := t.do("Pete", pete, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Any partner", Description: "People of organizations we have not connected yet, approved by Mark",
		AccessPackageID: c.PartnerPortal, AllowedTargetScope: entitlement.ScopeAllExternalUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, IsRequestorJustificationRequired: true,
			Stages: []entitlement.ApprovalStage{{DurationBeforeAutomaticDenial: entitlement.DurationDays(7),
				PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: MarkID}}}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(30)},
	}}).ID
	if t.err == nil {
		link, err := t.m.State().RequestLink(pete, c.PartnerPortal)
		if err != nil {
			t.fail(err)
		}
		t.say("Pete copies the request link %s and sends it to his contacts at Contoso and Fabrikam.", link.Path)
		c.RequestLink = link.Path
	}

	t.scenario("Requestor: request access to resources as an external user")
	t.at(day(7, 11))
	nina, raj := entitlement.ExternalActor(NinaEmail, ""), entitlement.ExternalActor(RajEmail, "")
	if t.err == nil {
		offer, err := t.m.State().ResolveRequestLink(nina, c.RequestLink)
		if err != nil {
			t.fail(err)
		}
		t.say("Nina of Contoso, not in the directory, signs in with %s and follows the link: %s; policies that let her ask: %d.",
			NinaEmail, offer.AccessPackage.DisplayName, len(offer.Requirements))
	}
	ninaReq := t.do("Nina", nina, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.PartnerPortal, AssignmentPolicyID: contosoPolicy, Justification: "Reseller onboarding"}).ID
	rajReq := t.do("Raj", raj, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.PartnerPortal, AssignmentPolicyID: anyPartner, Justification: "Joint bid with Contoso"}).ID
	t.refused("Raj under the Contoso policy", raj, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.PartnerPortal, AssignmentPolicyID: contosoPolicy}, entitlement.ErrForbidden)

	t.scenario("Approver: approve requests to resources")
	t.at(day(7, 15))
	t.do("Mark", mark, entitlement.UpdateApprovalStage{ApprovalID: ninaReq, StageID: t.pendingStage(mark, ninaReq),
		ReviewResult: entitlement.DecisionApprove, Justification: "Contoso's new account manager"})
	t.do("Mark", mark, entitlement.UpdateApprovalStage{ApprovalID: rajReq, StageID: t.pendingStage(mark, rajReq),
		ReviewResult: entitlement.DecisionApprove, Justification: "For the joint bid"})
	t.say("Approved, Nina and Raj become governed guests; Raj's organization, fabrikam.com, becomes a proposed connected organization.")
	t.guest(NinaEmail, &c.Nina)
	t.guest(RajEmail, &c.Raj)
	t.myAccess("Nina", entitlement.UserActor(c.Nina))

	t.scenario("Administrator: view the connected organizations that are proposed and configured")
	if t.err == nil {
		orgs, err := t.m.State().ListConnectedOrganizations(ada)
		if err != nil {
			t.fail(err)
		}
		for _, o := range orgs {
			t.say("%s: %s; internal sponsors: %d", o.DisplayName, o.State, len(o.InternalSponsors))
		}
	}

	t.scenario("Administrator: assign employees access automatically")
	t.at(day(8, 9))
	t.do("Ada", ada, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: c.FinanceCatalog,
		Resource: entitlement.ResourceSpec{OriginID: ExpensesID, OriginSystem: entitlement.OriginSystemAadGroup}})
	c.Expenses = t.do("Ada", ada, entitlement.CreateAccessPackage{CatalogID: c.FinanceCatalog, DisplayName: "Expenses"}).ID
	t.names[c.Expenses] = "Expenses"
	expRole := t.memberRole(ada, c.FinanceCatalog, ExpensesID)
	t.do("Ada", ada, entitlement.AddResourceRoleScope{AccessPackageID: c.Expenses, RoleID: expRole.RoleID, ScopeID: expRole.ScopeID})
	t.do("Ada", ada, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Finance department", AccessPackageID: c.Expenses, AllowedTargetScope: entitlement.ScopeSpecificDirectoryUsers,
		SpecificAllowedTargets: []entitlement.SubjectSet{{Kind: entitlement.AttributeRuleMembers, MembershipRule: `(user.department -eq "Finance")`}},
		AutomaticRequestSettings: &entitlement.AutomaticRequestSettings{RequestAccessForAllowedTargets: true,
			RemoveAccessWhenTargetLeavesAllowedTargets: true, GracePeriodBeforeAccessRemoval: entitlement.DurationDays(7)},
	}})
	t.say("Fiona, in Finance, is assigned Expenses at once by a systemAdd request: nobody asked, nobody approved.")
	t.at(day(8, 10))
	t.do("HR feed", sys, entitlement.SetUserAttribute{UserID: DaveID, Name: "department", Value: "Finance"})
	t.say("Dave moves to Finance, and is assigned Expenses in the same decision.")
	t.at(day(9, 9))
	t.do("HR feed", sys, entitlement.SetUserAttribute{UserID: DaveID, Name: "department", Value: "Sales"})
	t.say("Dave is back in Sales: he keeps Expenses for the 7 days' grace, then a systemRemove request ends it.")

	t.scenario("Administrator: assign employees access from lifecycle workflows")
	t.at(day(9, 10))
	c.Joiners = t.do("Ada", ada, entitlement.CreateWorkflow{Workflow: entitlement.Workflow{
		DisplayName: "Finance joiners", Category: entitlement.WorkflowCategoryJoiner, IsEnabled: true, IsSchedulingEnabled: true,
		ExecutionConditions: entitlement.WorkflowExecutionConditions{ODataType: entitlement.ConditionsTriggerAndScopeBased,
			Scope:   &entitlement.RuleBasedSubjectSet{Rule: `(user.department -eq "Finance")`},
			Trigger: &entitlement.WorkflowTrigger{ODataType: entitlement.TriggerTimeBasedAttribute, TimeBasedAttribute: "employeeHireDate"}},
		Tasks: []entitlement.WorkflowTask{{DisplayName: "Request Payments", TaskDefinitionID: entitlement.TaskRequestAccessPackageAssignment,
			IsEnabled: true, Arguments: []entitlement.KeyValuePair{{Name: "accessPackageId", Value: c.Payments}, {Name: "assignmentPolicyId", Value: direct}}}},
	}}).ID
	c.Leavers = t.do("Ada", ada, entitlement.CreateWorkflow{Workflow: entitlement.Workflow{
		DisplayName: "Leavers", Category: entitlement.WorkflowCategoryLeaver, IsEnabled: true, IsSchedulingEnabled: true,
		ExecutionConditions: entitlement.WorkflowExecutionConditions{ODataType: entitlement.ConditionsTriggerAndScopeBased,
			Scope:   &entitlement.RuleBasedSubjectSet{Rule: `(user.userType -eq "Member")`},
			Trigger: &entitlement.WorkflowTrigger{ODataType: entitlement.TriggerTimeBasedAttribute, TimeBasedAttribute: "employeeLeaveDateTime"}},
		Tasks: []entitlement.WorkflowTask{
			{DisplayName: "Cancel pending requests", TaskDefinitionID: entitlement.TaskCancelPendingAccessPackageRequests, IsEnabled: true, ContinueOnError: true},
			{DisplayName: "Remove all access packages", TaskDefinitionID: entitlement.TaskRemoveAllAccessPackageAssignments, IsEnabled: true},
		},
	}}).ID
	hire, leave := day(14, 9), day(25, 17)
	t.do("HR feed", sys, entitlement.PutUser{User: entitlement.User{ID: GinaID, DisplayName: "Gina Garcia", Department: "Finance",
		AccountEnabled: true, EmployeeHireDate: &hire}})
	t.say("Gina will join Finance on %s: Expenses comes at once, by rule; the joiner workflow will request Payments on the day.",
		hire.Format("Mon 02 Jan"))
	t.do("HR feed", sys, entitlement.SetUserAttribute{UserID: FionaID, Name: "employeeLeaveDateTime", Value: leave.Format(time.RFC3339)})
	t.say("Fiona leaves on %s: the leaver workflow will remove her access packages then.", leave.Format("Mon 02 Jan 15:04"))

	t.scenario("Access package manager: update the resources for a project")
	t.at(day(14, 9))
	crm := t.memberRole(pete, c.SalesCatalog, CRMUsersID)
	t.do("Pete", pete, entitlement.AddResourceRoleScope{AccessPackageID: c.SalesTools, RoleID: crm.RoleID, ScopeID: crm.ScopeID})
	t.say("Everyone who holds Sales tools, Anna among them, is granted the CRM too.")

	t.scenario("Access package manager: update the duration and how access is approved")
	t.at(day(15, 9))
	employees.Expiration.Duration = entitlement.DurationDays(14)
	t.do("Pete", pete, entitlement.ReplaceAssignmentPolicy{PolicyID: policy, Policy: employees})
	employees.RequestApprovalSettings.Stages = append(employees.RequestApprovalSettings.Stages, entitlement.ApprovalStage{
		DurationBeforeAutomaticDenial: entitlement.DurationDays(7),
		PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: OliviaID}},
	})
	t.do("Pete", pete, entitlement.ReplaceAssignmentPolicy{PolicyID: policy, Policy: employees})
	t.say("New assignments last 14 days and need Olivia's approval after the manager's; Anna keeps hers as approved.")
	t.at(day(16, 10))
	benReq = t.do("Ben", ben, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.SalesTools, AssignmentPolicyID: policy, Justification: "Now covering for Anna"}).ID
	t.at(day(16, 12))
	t.do("Mark", mark, entitlement.UpdateApprovalStage{ApprovalID: benReq, StageID: t.pendingStage(mark, benReq),
		ReviewResult: entitlement.DecisionApprove, Justification: "Anna is away from Monday"})
	t.at(day(17, 9))
	d.fail(CRMUsersID, true)
	t.do("Olivia", olivia, entitlement.UpdateApprovalStage{ApprovalID: benReq, StageID: t.pendingStage(olivia, benReq),
		ReviewResult: entitlement.DecisionApprove, Justification: "Agreed"})
	t.say("The CRM did not answer: Ben's CRM role is recorded as failed, with the reason; the request is partially delivered.")
	t.at(day(17, 11))
	d.fail(CRMUsersID, false)
	t.do("Pete", pete, entitlement.ReprocessAssignmentRequest{RequestID: benReq})

	t.scenario("Access package manager: directly assign, and remove users that no longer need access")
	contractors := t.do("Pete", pete, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Contractors", AccessPackageID: c.SalesTools, AllowedTargetScope: entitlement.ScopeNotSpecified,
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(7)}}}).ID
	t.do("Pete", pete, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminAdd, AccessPackageID: c.SalesTools,
		AssignmentPolicyID: contractors, TargetID: DaveID, Justification: "Trade fair"})
	t.at(day(21, 9))
	t.do("Pete", pete, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminRemove, AccessPackageID: c.SalesTools,
		AssignmentID: t.assignmentOf(ben, c.SalesTools), Justification: "Anna is back"})
	t.do("Pete", pete, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminRemove, AccessPackageID: c.PartnerPortal,
		AssignmentID: t.assignmentOf(entitlement.UserActor(c.Raj), c.PartnerPortal), Justification: "The joint bid is over"})
	t.say("Raj lost his last assignment: as the settings say, his sign-in is blocked and he will be deleted in 30 days.")

	t.scenario("Programmatic administration: applications")
	t.do("Ada", ada, entitlement.CreateRoleAssignment{PrincipalID: ReaderID, RoleDefinitionID: entitlement.RoleCatalogReader,
		AppScopeID: entitlement.CatalogScope(c.SalesCatalog)})
	if t.err == nil {
		pkgs, err := t.m.State().ListAccessPackages(reader, c.SalesCatalog)
		if err != nil {
			t.fail(err)
		}
		t.say("The reporting application, a catalog reader of Sales, lists %d access packages there.", len(pkgs))
	}
	t.refused("Access reporting", reader, entitlement.CreateAccessPackage{CatalogID: c.SalesCatalog, DisplayName: "Not mine"}, entitlement.ErrForbidden)
	t.do("HR provisioning", app, entitlement.UpdateAccessPackage{AccessPackageID: c.SalesTools,
		Description: new("Membership of the Sales team and the CRM")})

	t.scenario("Time passes: the program processes what fell due, a few days late")
	if t.err == nil {
		end := t.m.State().MyAssignments(anna)
		for _, a := range end {
			if a.AccessPackageID == c.SalesTools {
				e, _ := a.End()
				c.Expired = e.Add(time.Hour)
			}
		}
		cp, err := log.Head(ctx)
		if err != nil {
			t.fail(err)
		}
		c.Recorded = cp.Position
	}
	t.at(day(40, 9))
	t.processDue()
	t.say("Anna's assignment of Sales tools ended on %s; the log recorded it on %s, and the projection knows both.",
		c.Expired.Add(-time.Hour).Format("Mon 02 Jan 15:04"), t.clock.Now().Format("Mon 02 Jan 15:04"))
	t.myAccess("Anna", anna)
	t.workflowRuns(ada, c.Joiners, "Finance joiners")
	t.workflowRuns(ada, c.Leavers, "Leavers")
	t.myAccess("Fiona", entitlement.UserActor(FionaID))
	t.myAccess("Gina", entitlement.UserActor(GinaID))

	t.scenario("Requestor: request access again, under the policy as it is now")
	t.at(day(40, 10))
	again := t.do("Anna", anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: c.SalesTools, AssignmentPolicyID: policy, Justification: "Back on the sales team"}).ID
	t.at(day(40, 11))
	t.do("Mark", mark, entitlement.UpdateApprovalStage{ApprovalID: again, StageID: t.pendingStage(mark, again),
		ReviewResult: entitlement.DecisionApprove, Justification: "Welcome back"})
	t.at(day(40, 15))
	t.do("Olivia", olivia, entitlement.UpdateApprovalStage{ApprovalID: again, StageID: t.pendingStage(olivia, again),
		ReviewResult: entitlement.DecisionApprove, Justification: "Approved"})
	t.myAccess("Anna", anna)
	c.End = t.clock.Now()
	return c, t.err
}

// guest finds the guest an external request created for an email.
func (t *teller) guest(email string, id *string) {
	if t.err != nil {
		return
	}
	u, err := t.m.State().GuestByEmail(entitlement.SystemActor(), email)
	if err != nil {
		t.fail(err)
		return
	}
	*id = u.ID
}
