package projection

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/accessledger/accessledger/entitlement"
)

// Catalogs returns the catalogs as of as, by display name.
func (p *Projector) Catalogs(ctx context.Context, as As) ([]entitlement.Catalog, error) {
	db, err := p.read()
	if err != nil {
		return nil, err
	}
	out, err := listAt[entitlement.Catalog](ctx, db, as, "objects x", "x.kind = ?", kindCatalog)
	slices.SortFunc(out, func(x, y entitlement.Catalog) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	return out, err
}

// AccessPackages returns the access packages of a catalog as of as (of
// every catalog with an empty id), by display name.
func (p *Projector) AccessPackages(ctx context.Context, catalogID string, as As) ([]entitlement.AccessPackage, error) {
	db, err := p.read()
	if err != nil {
		return nil, err
	}
	where, args := inCatalog(kindAccessPackage, catalogID)
	out, err := listAt[entitlement.AccessPackage](ctx, db, as, "objects x", where, args...)
	slices.SortFunc(out, func(x, y entitlement.AccessPackage) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	return out, err
}

// Resources returns the resources of a catalog as of as (of every catalog
// with an empty id), by display name.
func (p *Projector) Resources(ctx context.Context, catalogID string, as As) ([]entitlement.Resource, error) {
	db, err := p.read()
	if err != nil {
		return nil, err
	}
	where, args := inCatalog(kindResource, catalogID)
	out, err := listAt[entitlement.Resource](ctx, db, as, "objects x", where, args...)
	slices.SortFunc(out, func(x, y entitlement.Resource) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	return out, err
}

func inCatalog(kind, catalogID string) (string, []any) {
	if catalogID == "" {
		return "x.kind = ?", []any{kind}
	}
	return "x.kind = ? AND x.parent_id = ?", []any{kind, catalogID}
}

// User returns a user as of as.
func (p *Projector) User(ctx context.Context, id string, as As) (entitlement.User, error) {
	db, err := p.read()
	if err != nil {
		return entitlement.User{}, err
	}
	return getAt(ctx, db, as, users, id)
}

// UsersNamed returns the users whose display name is now name, as they
// were as of as, by id. A user renamed since is found by the new name.
func (p *Projector) UsersNamed(ctx context.Context, name string, as As) ([]entitlement.User, error) {
	db, err := p.read()
	if err != nil {
		return nil, err
	}
	out, err := listAt[entitlement.User](ctx, db, as, "objects x", "x.kind = ? AND x.display_name = ?", kindUser, name)
	slices.SortFunc(out, func(x, y entitlement.User) int { return cmp.Compare(x.ID, y.ID) })
	return out, err
}

// AccessPackagesNamed returns the access packages whose display name is
// now name, as they were as of as, by id.
func (p *Projector) AccessPackagesNamed(ctx context.Context, name string, as As) ([]entitlement.AccessPackage, error) {
	db, err := p.read()
	if err != nil {
		return nil, err
	}
	out, err := listAt[entitlement.AccessPackage](ctx, db, as, "objects x", "x.kind = ? AND x.display_name = ?", kindAccessPackage, name)
	slices.SortFunc(out, func(x, y entitlement.AccessPackage) int { return cmp.Compare(x.ID, y.ID) })
	return out, err
}

// DisplayNames returns the display names the projection now holds for the
// given ids of subjects (users, groups, service principals), access
// packages, catalogs, resources, policies and connected organizations,
// deleted ones included. Ids it does not know are left out of the map.
func (p *Projector) DisplayNames(ctx context.Context, ids []string) (map[string]string, error) {
	db, err := p.read()
	if err != nil {
		return nil, err
	}
	named := []string{kindUser, kindGroup, kindServicePrincipal, kindAccessPackage, kindCatalog, kindResource,
		kindPolicy, kindConnectedOrganization}
	names := make(map[string]string, len(ids))
	const chunk = 500
	uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
	for len(uniq) > 0 {
		n := min(chunk, len(uniq))
		args := make([]any, n)
		for i, id := range uniq[:n] {
			args[i] = id
		}
		uniq = uniq[n:]
		rows, err := db.QueryContext(ctx, "SELECT kind, id, display_name FROM objects WHERE id IN ("+marks(n)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("projection: read display names: %w", err)
		}
		for rows.Next() {
			var kind, id, name string
			if err := rows.Scan(&kind, &id, &name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("projection: read display names: %w", err)
			}
			if name != "" && slices.Contains(named, kind) {
				names[id] = name
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("projection: read display names: %w", err)
		}
	}
	return names, nil
}

// marks returns n comma-separated SQL parameters.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Resource returns a resource as of as.
func (p *Projector) Resource(ctx context.Context, id string, as As) (entitlement.Resource, error) {
	db, err := p.read()
	if err != nil {
		return entitlement.Resource{}, err
	}
	return getAt(ctx, db, as, resources, id)
}
