// Package story plays the seed scenarios of entitlement management end to
// end through the public API, as the roles the scenarios name, on a clock
// that moves through weeks, and tells what happens as it goes. The demo
// command plays it to a terminal; the report tests read the history it
// leaves. Everything about it is deterministic: the same log, event for
// event and hash for hash, on every run.
package story

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
)

// Start is the instant the story starts: Monday 2 March 2026, 09:00 UTC.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Clock is the story's clock: it moves only when the story says. Give its
// Now to the log (sqlitestore.Options.Now) so that recorded times are the
// story's too.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at Start.
func NewClock() *Clock { return &Clock{now: Start} }

// Now returns the story's instant.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// The people and groups of the story.
const (
	AdaID    = "a0000000-0000-4000-8000-000000000001" // Global Administrator
	CarolID  = "a0000000-0000-4000-8000-000000000002" // catalog creator, then owner of Sales
	OliviaID = "a0000000-0000-4000-8000-000000000003" // co-owner of Sales
	PeteID   = "a0000000-0000-4000-8000-000000000004" // access package manager of Sales
	MarkID   = "a0000000-0000-4000-8000-000000000005" // sales manager
	AnnaID   = "a0000000-0000-4000-8000-000000000006" // joins sales
	BenID    = "a0000000-0000-4000-8000-000000000007" // sales
	DaveID   = "a0000000-0000-4000-8000-000000000008" // sales, contractor
	FionaID  = "a0000000-0000-4000-8000-000000000009" // finance, leaves
	GinaID   = "a0000000-0000-4000-8000-00000000000a" // joins finance
	AppID    = "c0000000-0000-4000-8000-000000000001" // an HR provisioning application
	ReaderID = "c0000000-0000-4000-8000-000000000002" // a reporting application

	SalesTeamID = "b0000000-0000-4000-8000-000000000001" // group
	CRMUsersID  = "b0000000-0000-4000-8000-000000000002" // group, whose first grants fail
	PaymentsID  = "b0000000-0000-4000-8000-000000000003" // group
	ExpensesID  = "b0000000-0000-4000-8000-000000000004" // group, assigned by department

	NinaEmail = "nina@contoso.com" // a reseller's employee, not in the directory
	RajEmail  = "raj@fabrikam.com" // of an organization nobody connected
)

// Cast is what the story made: the ids a reader of its history asks
// about.
type Cast struct {
	SalesCatalog, FinanceCatalog string
	SalesTools, Payments         string // access packages
	Expenses                     string // access package assigned to the Finance department by rule
	Joiners, Leavers             string // lifecycle workflows
	PartnerPortal                string // access package for a connected organization's users
	Contoso                      string // connected organization
	RequestLink                  string // of the partner portal
	Nina, Raj                    string // the guests external requests created
	SalesTeam                    Role   // the Member role of the Sales team group
	// Expired is an instant after Anna's first assignment of Sales tools
	// expired and before ProcessDue recorded it: as of then she no longer
	// held it, as known at Recorded she still did.
	Expired time.Time
	// Recorded is the last position before the expiry was recorded.
	Recorded eventstore.Position
	// End is the story's last instant.
	End time.Time
}

// Role names a resource role.
type Role struct{ ResourceID, RoleID, ScopeID string }

// deliverer stands in for the systems that hold the resources: it grants
// everything except the roles of groups it is told are failing.
type deliverer struct {
	mu      sync.Mutex
	failing map[string]bool
}

func (d *deliverer) Grant(_ context.Context, g entitlement.Grant) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failing[g.OriginID] {
		return fmt.Errorf("the CRM's provisioning endpoint answered 503 Service Unavailable")
	}
	return nil
}

func (d *deliverer) Revoke(context.Context, entitlement.Grant) error { return nil }

func (d *deliverer) fail(originID string, fail bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failing[originID] = fail
}

// Options returns the Manager options the story runs with: its clock,
// seeded ids and event ids, and its deliverer.
func options(c *Clock, d *deliverer) entitlement.Options {
	entropy := rand.NewChaCha8([32]byte{'a', 'c', 'c', 'e', 's', 's', 'l', 'e', 'd', 'g', 'e', 'r'})
	n := 0
	return entitlement.Options{
		Clock: c, IDs: entitlement.SeededIDs(2026), Deliverer: d, NoSnapshot: true,
		EventIDs: func() ulid.ULID { return ulid.MustNew(ulid.Timestamp(c.Now()), entropy) },
		NewCommandID: func() string {
			n++
			return fmt.Sprintf("d0000000-0000-4000-8000-%012d", n)
		},
	}
}
