package entitlement

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessledger/accessledger/eventstore"
)

// Access reviews of assignments (domain §2.8). A policy whose
// reviewSettings are enabled starts a review of its assignments at each
// occurrence of its schedule (ProcessDue starts it); each review stays open
// for schedule.expiration.duration; the reviewers decide Approve, Deny or
// DontKnow, and may change their minds until it closes, the last decision
// counting; when it closes (or is stopped), the results are applied: a
// Deny, or no decision under expirationBehavior removeAccess, removes the
// assignment through a systemRemove request; everything else keeps it.

func reviewStream(id string) eventstore.StreamID {
	return eventstore.StreamID("accessReview/" + id)
}

// Access review statuses (Graph accessReviewInstance.status).
const (
	ReviewStatusInProgress = "InProgress"
	ReviewStatusApplied    = "Applied"
)

// Review decisions (Graph accessReviewInstanceDecisionItem.decision).
const (
	ReviewDecisionApprove     = "Approve"
	ReviewDecisionDeny        = "Deny"
	ReviewDecisionDontKnow    = "DontKnow"
	ReviewDecisionNotReviewed = "NotReviewed"
)

// Apply results (Graph accessReviewInstanceDecisionItem.applyResult):
// New until the review's results are applied.
const (
	ApplyResultNew                                  = "New"
	ApplyResultAppliedSuccessfully                  = "AppliedSuccessfully"
	ApplyResultAppliedSuccessfullyButObjectNotFound = "AppliedSuccessfullyButObjectNotFound"
	ApplyResultAppliedWithUnknownFailure            = "AppliedWithUnknownFailure"
)

// AccessReview is one review of a policy's assignments (Graph
// accessReviewInstance), with the settings it runs with, as they stood
// when it started.
type AccessReview struct {
	ID                 string `json:"id"`
	AssignmentPolicyID string `json:"assignmentPolicyId"`
	AccessPackageID    string `json:"accessPackageId"`
	PolicyVersion      int    `json:"policyVersion"`
	// Occurrence is the review's 1-based number in its schedule.
	Occurrence int `json:"occurrence"`
	// Status is InProgress until the results are applied, then Applied.
	Status                          string                   `json:"status"`
	StartDateTime                   time.Time                `json:"startDateTime"`
	EndDateTime                     time.Time                `json:"endDateTime"`
	ExpirationBehavior              ReviewExpirationBehavior `json:"expirationBehavior"`
	IsReviewerJustificationRequired bool                     `json:"isReviewerJustificationRequired"`
	// AppliedDateTime is when the results were applied: at the end, or
	// earlier when someone stopped the review.
	AppliedDateTime *time.Time `json:"appliedDateTime,omitempty"`
	Stopped         bool       `json:"stopped,omitempty"`
	// ReviewerSets are the distinct lists of reviewers of the review's
	// items, each once: an item names its list by number
	// (ReviewDecisionItem.ReviewerSet), so that a group of reviewers is
	// listed once for the review, not once per assignment.
	ReviewerSets [][]string `json:"reviewerSets,omitempty"`
}

// ReviewDecisionItem is one assignment under review (Graph
// accessReviewInstanceDecisionItem): who may decide it, the last decision
// and, once applied, its outcome. Recommendation is NotAvailable where
// recommendations are enabled: the library knows no sign-in activity to
// recommend from, so expirationBehavior acceptAccessRecommendation keeps
// the access of those nobody reviewed.
type ReviewDecisionItem struct {
	AccessReviewID string `json:"accessReviewId"`
	AssignmentID   string `json:"assignmentId"`
	PrincipalID    string `json:"principalId"`
	// Reviewers may decide the item: the user for self-review, else the
	// primary reviewers, else the fallback ones, as resolved when the
	// review started; none if nobody could be found. The State holds the
	// review's list here (one slice for every item that names it) and its
	// reads return a copy; events and snapshots leave it out and name the
	// list by ReviewerSet, except events of schema version 1, which list
	// it here.
	Reviewers []string `json:"reviewers,omitempty"`
	// ReviewerSet is the item's list of reviewers, by its 1-based number
	// among the review's ReviewerSets; 0 if nobody may decide it.
	ReviewerSet int `json:"reviewerSet,omitempty"`
	// Decision is the last decision (Approve, Deny, DontKnow), or
	// NotReviewed.
	Decision         string     `json:"decision"`
	Justification    string     `json:"justification,omitempty"`
	ReviewedBy       string     `json:"reviewedBy,omitempty"`
	ReviewedDateTime *time.Time `json:"reviewedDateTime,omitempty"`
	Recommendation   string     `json:"recommendation,omitempty"`
	ApplyResult      string     `json:"applyResult,omitempty"`
	// RemovalRequestID is the systemRemove request applying the result.
	RemovalRequestID string `json:"removalRequestId,omitempty"`
}

// Event types of access reviews.
const (
	EventAccessReviewStarted          = "accessReviewStarted"
	EventAccessReviewDecisionRecorded = "accessReviewDecisionRecorded"
	EventAccessReviewApplied          = "accessReviewApplied"
)

// AccessReviewStarted records a review starting, with its items.
type AccessReviewStarted struct {
	Review AccessReview         `json:"review"`
	Items  []ReviewDecisionItem `json:"items"`
}

// AccessReviewDecision records a reviewer's decision on one item.
type AccessReviewDecision struct {
	AccessReviewID   string    `json:"accessReviewId"`
	AssignmentID     string    `json:"assignmentId"`
	Decision         string    `json:"decision"`
	Justification    string    `json:"justification,omitempty"`
	ReviewedBy       string    `json:"reviewedBy"`
	ReviewedDateTime time.Time `json:"reviewedDateTime"`
}

// AccessReviewApplied records a review closing and its results applied.
type AccessReviewApplied struct {
	AccessReviewID string               `json:"accessReviewId"`
	DateTime       time.Time            `json:"dateTime"`
	Stopped        bool                 `json:"stopped,omitempty"`
	Results        []ReviewApplyOutcome `json:"results"`
}

// ReviewApplyOutcome is what applying one item did.
type ReviewApplyOutcome struct {
	AssignmentID     string `json:"assignmentId"`
	Decision         string `json:"decision"`
	ApplyResult      string `json:"applyResult"`
	RemovalRequestID string `json:"removalRequestId,omitempty"`
}

func init() {
	registry[EventAccessReviewStarted] = func() any { return new(AccessReviewStarted) }
	registry[EventAccessReviewDecisionRecorded] = func() any { return new(AccessReviewDecision) }
	registry[EventAccessReviewApplied] = func() any { return new(AccessReviewApplied) }
	activities[EventAccessReviewStarted] = "Access review started"
	activities[EventAccessReviewDecisionRecorded] = "Submit access review decision"
	activities[EventAccessReviewApplied] = "Apply access review decisions"
}

// RecordReviewDecision records a reviewer's decision (Approve, Deny or
// DontKnow) on an assignment under review (Graph PATCH on an
// accessReviewInstanceDecisionItem). A reviewer may decide again until
// the review closes; the last decision counts.
type RecordReviewDecision struct {
	AccessReviewID string
	AssignmentID   string
	Decision       string
	Justification  string
}

// StopAccessReview closes a review before its end and applies its results
// at once (Graph accessReviewInstance stop, then applyDecisions).
type StopAccessReview struct {
	AccessReviewID string
}

func (RecordReviewDecision) commandName() string { return "RecordReviewDecision" }
func (StopAccessReview) commandName() string     { return "StopAccessReview" }

func reviewItemKey(reviewID, assignmentID string) string { return reviewID + "\x00" + assignmentID }

// applyReview applies the events of access reviews. It reports false for
// a payload it does not know.
func (s *State) applyReview(e Event) bool {
	switch d := e.Data.(type) {
	case *AccessReviewStarted:
		r := d.Review
		items := make([]ReviewDecisionItem, len(d.Items))
		copy(items, d.Items)
		numberReviewerSets(&r, items)
		s.putReview(&r)
		for i := range items {
			s.putReviewItem(&items[i])
		}
		s.refreshReviewDue(r.AssignmentPolicyID)
	case *AccessReviewDecision:
		if it, ok := s.reviewItems.Get(reviewItemKey(d.AccessReviewID, d.AssignmentID)); ok {
			c := *it
			c.Decision, c.Justification, c.ReviewedBy = d.Decision, d.Justification, d.ReviewedBy
			c.ReviewedDateTime = timePtr(d.ReviewedDateTime)
			s.putReviewItem(&c)
		}
	case *AccessReviewApplied:
		r, ok := s.reviews.Get(d.AccessReviewID)
		if !ok {
			return true
		}
		c := *r
		c.Status, c.AppliedDateTime, c.Stopped = ReviewStatusApplied, timePtr(d.DateTime), d.Stopped
		s.putReview(&c)
		s.refreshReviewDue(c.AssignmentPolicyID) // a review stopped early no longer holds the next back
		for _, o := range d.Results {
			if it, ok := s.reviewItems.Get(reviewItemKey(d.AccessReviewID, o.AssignmentID)); ok {
				x := *it
				x.Decision, x.ApplyResult, x.RemovalRequestID = o.Decision, o.ApplyResult, o.RemovalRequestID
				s.putReviewItem(&x)
			}
		}
	default:
		return false
	}
	return true
}

// reviewersOf returns the reviewers the subject sets stand for, for the
// item of a user, leaving the user out. Reviewers are enabled users, as
// approvers are (deciders): a set that stands for applications or disabled
// users only stands for nobody, so that the item falls back. Sets that do
// not depend on the user (users, service principals, groups) are resolved
// once: items whose user is not among them share one list.
func (s *State) reviewersOf(sets []SubjectSet) func(userID string) []string {
	for _, set := range sets {
		switch set.Kind {
		case SingleUser, SingleServicePrincipal, GroupMembers:
		default:
			return func(userID string) []string {
				return s.deciders(s.resolveSubjectSets(sets, resolveContext{requestorID: userID, targetID: userID}, userID))
			}
		}
	}
	all := s.deciders(s.resolveSubjectSets(sets, resolveContext{}))
	return func(userID string) []string {
		i, found := slices.BinarySearch(all, userID)
		if !found {
			return all
		}
		if len(all) == 1 {
			return nil
		}
		return slices.Delete(slices.Clone(all), i, i+1)
	}
}

// numberReviewerSets gives every item a reviewer list of r's
// ReviewerSets, adding the lists that items of schema version 1 carry
// inline, each once, and sets each item's Reviewers to its list.
func numberReviewerSets(r *AccessReview, items []ReviewDecisionItem) {
	var known map[string]int
	shared := map[*string]int{} // a list items share, by its first element: joined once
	for i := range items {
		it := &items[i]
		if it.ReviewerSet == 0 && len(it.Reviewers) > 0 {
			if n := shared[&it.Reviewers[0]]; n > 0 && len(r.ReviewerSets[n-1]) == len(it.Reviewers) {
				it.ReviewerSet = n
			}
		}
		if it.ReviewerSet == 0 && len(it.Reviewers) > 0 {
			if known == nil {
				known = make(map[string]int, len(r.ReviewerSets))
				r.ReviewerSets = slices.Clip(r.ReviewerSets)
				for k, set := range r.ReviewerSets {
					known[strings.Join(set, "\x00")] = k + 1
				}
			}
			k := strings.Join(it.Reviewers, "\x00")
			if known[k] == 0 {
				r.ReviewerSets = append(r.ReviewerSets, it.Reviewers)
				known[k] = len(r.ReviewerSets)
			}
			it.ReviewerSet = known[k]
			shared[&it.Reviewers[0]] = it.ReviewerSet
		}
		it.Reviewers = nil
		if it.ReviewerSet > 0 && it.ReviewerSet <= len(r.ReviewerSets) {
			it.Reviewers = r.ReviewerSets[it.ReviewerSet-1]
		} else {
			it.ReviewerSet = 0
		}
	}
}

// clone returns a copy of the item that shares nothing with the State:
// its Reviewers are its review's list, which other items share.
func (it *ReviewDecisionItem) clone() ReviewDecisionItem {
	c := *it
	c.Reviewers = slices.Clone(it.Reviewers)
	if c.ApplyResult == "" {
		c.ApplyResult = ApplyResultNew // the State keeps it empty until applied
	}
	if it.ReviewedDateTime != nil {
		c.ReviewedDateTime = timePtr(*it.ReviewedDateTime)
	}
	return c
}

// reviewerSetKey names a review's reviewer list in the indexes.
func reviewerSetKey(reviewID string, set int) string {
	return fmt.Sprintf("%s\x00%06d", reviewID, set)
}

func (s *State) putReview(r *AccessReview) {
	old, _ := s.reviews.Get(r.ID)
	s.reviews.Set(r.ID, r)
	s.ix.reviewsByPolicy.Add(r.AssignmentPolicyID, r.ID)
	s.moveDue(reviewDue(old), reviewDue(r))
	// The reviewers of an open review, by list: its items that they may
	// still decide are those of the lists (pendingByReviewerSet).
	if old != nil && old.Status == ReviewStatusInProgress {
		s.ix.openReviews.Remove(old.AssignmentPolicyID, old.ID)
		for k, set := range old.ReviewerSets {
			for _, id := range set {
				s.ix.reviewerSets.Remove(id, reviewerSetKey(old.ID, k+1))
			}
		}
	}
	if r.Status == ReviewStatusInProgress {
		s.ix.openReviews.Add(r.AssignmentPolicyID, r.ID)
		for k, set := range r.ReviewerSets {
			for _, id := range set {
				s.ix.reviewerSets.Add(id, reviewerSetKey(r.ID, k+1))
			}
		}
	}
}

func (s *State) putReviewItem(it *ReviewDecisionItem) {
	key := reviewItemKey(it.AccessReviewID, it.AssignmentID)
	old, _ := s.reviewItems.Get(key)
	s.reviewItems.Set(key, it)
	var was, is []string
	if old != nil && old.ApplyResult == "" && old.ReviewerSet > 0 {
		was = []string{reviewerSetKey(old.AccessReviewID, old.ReviewerSet)}
	}
	if it.ApplyResult == "" && it.ReviewerSet > 0 {
		is = []string{reviewerSetKey(it.AccessReviewID, it.ReviewerSet)}
	}
	moveMember(&s.ix.pendingByReviewerSet, was, is, key)
}

// reviewDue returns the due key of a review's end.
func reviewDue(r *AccessReview) string {
	if r == nil || r.Status != ReviewStatusInProgress {
		return ""
	}
	return dueKey(dueItem{r.EndDateTime, dueReviewEnd, r.ID})
}

// nextReview returns when the policy's next review starts, and its number:
// the first occurrence of its schedule at or after the policy was last
// written, after its last review started and once that review closed.
func (s *State) nextReview(e *policyEntry) (time.Time, int, bool) {
	rs := e.Policy.ReviewSettings
	if !rs.IsEnabled || e.Policy.IsAutoAssignment() {
		return time.Time{}, 0, false
	}
	from := e.Policy.ModifiedDateTime
	for id := range s.ix.reviewsByPolicy.Members(e.Policy.ID) {
		r, _ := s.reviews.Get(id)
		if !r.StartDateTime.Before(from) {
			from = r.StartDateTime.Add(time.Nanosecond)
		}
		// One review of a policy is open at a time, also across an edit
		// of its schedule: the next is the first occurrence once the
		// last has closed (at its end, or when it was stopped).
		closed := r.EndDateTime
		if r.AppliedDateTime != nil {
			closed = *r.AppliedDateTime
		}
		if closed.After(from) {
			from = closed
		}
	}
	return rs.Schedule.Recurrence.nextOccurrence(rs.Schedule.StartDateTime, from)
}

// refreshReviewDue puts the policy's next review start in the due queue.
func (s *State) refreshReviewDue(policyID string) {
	old, _ := s.ix.reviewDue.Get(policyID)
	k := ""
	if e, ok := s.policies.Get(policyID); ok {
		if at, _, ok := s.nextReview(e); ok {
			k = dueKey(dueItem{at, dueReviewStart, policyID})
		}
	}
	s.moveDue(old, k)
	if k == "" {
		s.ix.reviewDue.Delete(policyID)
	} else {
		s.ix.reviewDue.Set(policyID, k)
	}
}

// reviewsDue records, as ProcessDue would and in time order, the work of
// the policy's access reviews that fell due by now and is not recorded
// yet: a review whose start has come, started as of then, and the results
// of a review whose end has passed, applied as of its end. A command that
// changes what a review covers (the policy, an assignment through it)
// records them first, so that a review covers the assignments of its
// start and its policy version, whenever ProcessDue last ran. It does
// nothing inside review work of its own (applying results ends
// assignments).
func (p *plan) reviewsDue(policyID string) {
	if p.reviewing {
		return
	}
	now := p.now
	defer func() { p.now = now }()
	for p.err == nil {
		var at time.Time
		end := ""
		if k, ok := p.s.ix.reviewDue.Get(policyID); ok {
			if d := parseDueKey(k); !d.at.After(now) {
				at = d.at
			}
		}
		for id := range p.s.ix.openReviews.Members(policyID) {
			r, _ := p.s.reviews.Get(id)
			if !r.EndDateTime.After(now) && (at.IsZero() || r.EndDateTime.Before(at)) {
				at, end = r.EndDateTime, id
			}
		}
		if at.IsZero() {
			return
		}
		p.now = at
		p.bySystem(func() {
			if end != "" {
				p.applyReviewResults(end, false)
			} else {
				p.startReview(policyID)
			}
		})
	}
}

// startReview starts the review of a policy's assignments due now.
func (p *plan) startReview(policyID string) {
	e, _ := p.s.policies.Get(policyID)
	at, n, ok := p.s.nextReview(e)
	if !ok {
		return
	}
	rs := e.Policy.ReviewSettings
	r := AccessReview{ID: p.s.newID(p.ids), AssignmentPolicyID: policyID, AccessPackageID: e.Policy.AccessPackageID,
		PolicyVersion: e.Version, Occurrence: n, Status: ReviewStatusInProgress, StartDateTime: at,
		EndDateTime: rs.Schedule.Expiration.Duration.AddTo(at), ExpirationBehavior: rs.ExpirationBehavior,
		IsReviewerJustificationRequired: rs.IsReviewerJustificationRequired}
	var items []ReviewDecisionItem
	primary, fallback := p.s.reviewersOf(rs.PrimaryReviewers), p.s.reviewersOf(rs.FallbackReviewers)
	for _, id := range collect(&p.s.ix.liveByPackage, e.Policy.AccessPackageID) {
		a, _ := p.s.assignments.Get(id)
		if a.AssignmentPolicyID != policyID || a.endedBy(p.now) {
			continue // ended before the review started, recorded or not
		}
		it := ReviewDecisionItem{AccessReviewID: r.ID, AssignmentID: a.ID, PrincipalID: a.TargetID, Decision: ReviewDecisionNotReviewed}
		if rs.IsSelfReview {
			it.Reviewers = []string{a.TargetID}
		} else if it.Reviewers = primary(a.TargetID); len(it.Reviewers) == 0 {
			it.Reviewers = fallback(a.TargetID)
		}
		if rs.IsRecommendationEnabled {
			it.Recommendation = "NotAvailable"
		}
		items = append(items, it)
	}
	// The event lists each list of reviewers once, in the review.
	numberReviewerSets(&r, items)
	for i := range items {
		items[i].Reviewers = nil
	}
	p.emitEvent(Event{Stream: reviewStream(r.ID), Type: EventAccessReviewStarted, Data: &AccessReviewStarted{Review: r, Items: items}})
}

// applyReviewResults closes a review and applies its results: a Deny, or
// no decision under removeAccess, removes the assignment.
func (p *plan) applyReviewResults(reviewID string, stopped bool) {
	was := p.reviewing
	p.reviewing = true
	defer func() { p.reviewing = was }()
	r, _ := p.s.reviews.Get(reviewID)
	var results []ReviewApplyOutcome
	for _, it := range p.s.reviewItems.Prefix(reviewID + "\x00") {
		o := ReviewApplyOutcome{AssignmentID: it.AssignmentID, Decision: it.Decision, ApplyResult: ApplyResultAppliedSuccessfully}
		remove := it.Decision == ReviewDecisionDeny ||
			it.Decision == ReviewDecisionNotReviewed && r.ExpirationBehavior == ReviewRemoveAccess
		if remove {
			a, ok := p.s.assignments.Get(it.AssignmentID)
			var e *policyEntry
			if ok {
				e, _ = p.s.policies.Get(a.AssignmentPolicyID)
			}
			switch {
			case !ok || a.endedBy(p.now):
				o.ApplyResult = ApplyResultAppliedSuccessfullyButObjectNotFound
			case e == nil || a.State == AssignmentStateDelivering:
				o.ApplyResult = ApplyResultAppliedWithUnknownFailure
			default:
				why := "Denied in access review " + reviewID
				if it.Decision == ReviewDecisionNotReviewed {
					why = "Not reviewed in access review " + reviewID + ", whose policy removes access then"
				}
				o.RemovalRequestID = p.removalRequest(RequestTypeSystemRemove, e, a, why)
			}
		}
		results = append(results, o)
	}
	p.emitEvent(Event{Stream: reviewStream(reviewID), Type: EventAccessReviewApplied,
		Data: &AccessReviewApplied{AccessReviewID: reviewID, DateTime: p.now, Stopped: stopped, Results: results}})
}

func (c RecordReviewDecision) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	r, ok := s.reviews.Get(c.AccessReviewID)
	if !ok {
		return decision{}, notFound(op, subject("accessReview", c.AccessReviewID))
	}
	it, ok := s.reviewItems.Get(reviewItemKey(c.AccessReviewID, c.AssignmentID))
	if !ok {
		return decision{}, notFound(op, subject("accessReviewDecisionItem", c.AssignmentID))
	}
	sub := subject("accessReview", r.ID)
	if a.Kind != ActorUser || !slices.Contains(it.Reviewers, a.ID) {
		return decision{}, fail(op, ErrForbidden, sub, "the actor is not a reviewer of this assignment")
	}
	if r.Status != ReviewStatusInProgress || !now.Before(r.EndDateTime) {
		return decision{}, fail(op, ErrConflict, sub, "the review is closed")
	}
	switch c.Decision {
	case ReviewDecisionApprove, ReviewDecisionDeny, ReviewDecisionDontKnow:
	default:
		return decision{}, invalid(op, "decision", "must be Approve, Deny or DontKnow, not %q", c.Decision)
	}
	if r.IsReviewerJustificationRequired && strings.TrimSpace(c.Justification) == "" {
		return decision{}, invalid(op, "justification", "the review requires a justification")
	}
	return one(r.ID, Event{Stream: reviewStream(r.ID), Type: EventAccessReviewDecisionRecorded, Data: &AccessReviewDecision{
		AccessReviewID: r.ID, AssignmentID: c.AssignmentID, Decision: c.Decision, Justification: c.Justification,
		ReviewedBy: a.ID, ReviewedDateTime: now}})
}

func (c StopAccessReview) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	r, ok := s.reviews.Get(c.AccessReviewID)
	if !ok {
		return decision{}, notFound(op, subject("accessReview", c.AccessReviewID))
	}
	if !canAssignPackage(s, a, r.AccessPackageID) {
		return decision{}, forbidden(op, subject("accessReview", r.ID))
	}
	if r.Status != ReviewStatusInProgress {
		return decision{}, fail(op, ErrConflict, subject("accessReview", r.ID), "the review is closed")
	}
	if !now.Before(r.EndDateTime) {
		// Its results fell due at its end: ProcessDue applies them then.
		return decision{}, fail(op, ErrConflict, subject("accessReview", r.ID),
			"the review ended at %s; ProcessDue applies its results as of then", r.EndDateTime.Format(time.RFC3339))
	}
	p := newPlan(s, ids, now)
	p.applyReviewResults(r.ID, true)
	return p.decision(r.ID)
}

// AccessReviewsOfPolicy returns the reviews of a policy's assignments,
// oldest first, to whoever may read the policy.
func (s *State) AccessReviewsOfPolicy(a Actor, policyID string) ([]AccessReview, error) {
	a = s.reader(a)
	if _, err := s.GetAssignmentPolicy(a, policyID); err != nil {
		return nil, err
	}
	var out []AccessReview
	for id := range s.ix.reviewsByPolicy.Members(policyID) {
		r, _ := s.reviews.Get(id)
		c := *r
		c.ReviewerSets = make([][]string, len(r.ReviewerSets))
		for i, set := range r.ReviewerSets {
			c.ReviewerSets[i] = slices.Clone(set)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y AccessReview) int { return x.StartDateTime.Compare(y.StartDateTime) })
	return out, nil
}

// ReviewDecisionItems returns the items of a review, to whoever may view
// the assignments of its access package: each item names an assignment
// and its holder. (Reviewers read their own with MyPendingReviews.)
func (s *State) ReviewDecisionItems(a Actor, reviewID string) ([]ReviewDecisionItem, error) {
	a = s.reader(a)
	const op = "ReviewDecisionItems"
	r, ok := s.reviews.Get(reviewID)
	if !ok {
		return nil, notFound(op, subject("accessReview", reviewID))
	}
	pkg, ok := s.accessPackages.Get(r.AccessPackageID)
	if !ok {
		return nil, notFound(op, subject("accessPackage", r.AccessPackageID))
	}
	if !canViewAssignments(s, a, pkg.CatalogID) {
		return nil, forbidden(op, subject("accessReview", reviewID))
	}
	var out []ReviewDecisionItem
	for _, it := range s.reviewItems.Prefix(reviewID + "\x00") {
		out = append(out, it.clone())
	}
	return out, nil
}

// MyPendingReviews returns the items of open reviews the actor may decide
// (Graph accessReviewInstanceDecisionItem filterByCurrentUser), decided or
// not: a decision may change until the review closes. A review whose end
// passed takes no more decisions, though it is listed until ProcessDue
// closes it.
func (s *State) MyPendingReviews(a Actor) []ReviewDecisionItem {
	a = s.reader(a)
	var out []ReviewDecisionItem
	for set := range s.ix.reviewerSets.Members(a.ID) {
		for k := range s.ix.pendingByReviewerSet.Members(set) {
			it, _ := s.reviewItems.Get(k)
			out = append(out, it.clone())
		}
	}
	slices.SortFunc(out, func(x, y ReviewDecisionItem) int {
		return strings.Compare(reviewItemKey(x.AccessReviewID, x.AssignmentID), reviewItemKey(y.AccessReviewID, y.AssignmentID))
	})
	return out
}
