package entitlement

import (
	"time"
)

func (c CreateCatalog) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canCreateCatalog(s, a) {
		return decision{}, forbidden(op, "catalogs")
	}
	if err := checkDisplayName(op, "displayName", c.DisplayName); err != nil {
		return decision{}, err
	}
	state := c.State
	if state == "" {
		state = CatalogStatePublished
	}
	if err := checkCatalogState(op, state); err != nil {
		return decision{}, err
	}
	if s.catalogs.Len() >= MaxCatalogs {
		return decision{}, fail(op, ErrLimit, "catalogs", "a tenant holds at most %d catalogs", MaxCatalogs)
	}
	visible := true
	if c.IsExternallyVisible != nil {
		visible = *c.IsExternallyVisible
	}
	cat := Catalog{
		ID: s.newID(ids), DisplayName: c.DisplayName, Description: c.Description,
		CatalogType: CatalogTypeUserManaged, State: state, IsExternallyVisible: visible,
		CreatedDateTime: now, ModifiedDateTime: now,
	}
	ev := &CatalogCreated{Catalog: cat}
	if a.Kind != ActorSystem && a.ID != "" {
		ev.OwnerRoleAssignment = &RoleAssignment{
			ID: s.newID(ids), PrincipalID: a.ID, RoleDefinitionID: RoleCatalogOwner,
			AppScopeID: CatalogScope(cat.ID), DirectoryScopeID: "/", CreatedDateTime: now,
		}
	}
	return one(cat.ID, Event{Stream: catalogStream(cat.ID), Type: EventCatalogCreated, Data: ev})
}

// generalCatalogCreated is the event that brings the built-in General
// catalog into a log.
func generalCatalogCreated(now time.Time) Event {
	now = now.UTC()
	return Event{Stream: catalogStream(GeneralCatalogID), Type: EventCatalogCreated, Data: &CatalogCreated{
		Catalog: Catalog{
			ID: GeneralCatalogID, DisplayName: "General", Description: "Built-in catalog.",
			CatalogType: CatalogTypeServiceDefault, State: CatalogStatePublished, IsExternallyVisible: true,
			CreatedDateTime: now, ModifiedDateTime: now,
		},
	}}
}

func checkCatalogState(op, state string) error {
	if state != CatalogStatePublished && state != CatalogStateUnpublished {
		return invalid(op, "state", "must be published or unpublished, not %q", state)
	}
	return nil
}

func (c UpdateCatalog) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	old, ok := s.catalogs.Get(c.CatalogID)
	if !ok {
		return decision{}, notFound(op, subject("catalog", c.CatalogID))
	}
	if !canManageCatalog(s, a, c.CatalogID) {
		return decision{}, forbidden(op, subject("catalog", c.CatalogID))
	}
	cat := *old
	if c.DisplayName != nil {
		if err := checkDisplayName(op, "displayName", *c.DisplayName); err != nil {
			return decision{}, err
		}
		cat.DisplayName = *c.DisplayName
	}
	if c.Description != nil {
		cat.Description = *c.Description
	}
	if c.State != nil {
		if err := checkCatalogState(op, *c.State); err != nil {
			return decision{}, err
		}
		cat.State = *c.State
	}
	if c.IsExternallyVisible != nil {
		cat.IsExternallyVisible = *c.IsExternallyVisible
	}
	cat.ModifiedDateTime = now
	e := Event{Stream: catalogStream(cat.ID), Type: EventCatalogUpdated, Data: &CatalogUpdated{Catalog: cat}}
	if old.State != CatalogStatePublished && cat.State == CatalogStatePublished {
		return decideMadeAssignable(s, ids, now, cat.ID, e, s.packagesOfCatalog(cat.ID))
	}
	return one(cat.ID, e)
}

func (c DeleteCatalog) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	cat, ok := s.catalogs.Get(c.CatalogID)
	if !ok {
		return decision{}, notFound(op, subject("catalog", c.CatalogID))
	}
	if !canManageCatalog(s, a, c.CatalogID) {
		return decision{}, forbidden(op, subject("catalog", c.CatalogID))
	}
	if cat.CatalogType == CatalogTypeServiceDefault {
		return decision{}, fail(op, ErrConflict, subject("catalog", c.CatalogID), "the built-in General catalog cannot be deleted")
	}
	if n := len(s.packagesOfCatalog(c.CatalogID)); n > 0 {
		return decision{}, fail(op, ErrConflict, subject("catalog", c.CatalogID), "the catalog holds %d access packages", n)
	}
	return one(c.CatalogID, Event{Stream: catalogStream(c.CatalogID), Type: EventCatalogDeleted, Data: &ObjectRef{ID: c.CatalogID}})
}
