package projection

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accessledger/accessledger/entitlement"
	jsonv2 "github.com/go-json-experiment/json"
)

// Catalogs returns the catalogs as of as, by display name.
func (p *Projector) Catalogs(ctx context.Context, as As) ([]entitlement.Catalog, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	out, err := listAt[entitlement.Catalog](ctx, db, as, "objects x", "x.kind = ?", kindCatalog)
	slices.SortFunc(out, func(x, y entitlement.Catalog) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	return out, err
}

// AccessPackages returns the access packages of a catalog as of as (of
// every catalog with an empty id), by display name.
func (p *Projector) AccessPackages(ctx context.Context, catalogID string, as As) ([]entitlement.AccessPackage, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
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
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
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
	db, err := p.view(ctx)
	if err != nil {
		return entitlement.User{}, err
	}
	defer endView(db)
	return getAt(ctx, db, as, users, id)
}

// UsersNamed returns the users whose display name is now name (for one
// deleted since, its last name), as they were as of as, by id. A user
// renamed since is found by the new name.
func (p *Projector) UsersNamed(ctx context.Context, name string, as As) ([]entitlement.User, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	out, err := listAt[entitlement.User](ctx, db, as, "objects x", "x.kind = ? AND x.display_name = ?", kindUser, name)
	slices.SortFunc(out, func(x, y entitlement.User) int { return cmp.Compare(x.ID, y.ID) })
	return out, err
}

// AccessPackagesNamed returns the access packages whose display name is
// now name (for one deleted since, its last name), as they were as of as,
// by id.
func (p *Projector) AccessPackagesNamed(ctx context.Context, name string, as As) ([]entitlement.AccessPackage, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	out, err := listAt[entitlement.AccessPackage](ctx, db, as, "objects x", "x.kind = ? AND x.display_name = ?", kindAccessPackage, name)
	slices.SortFunc(out, func(x, y entitlement.AccessPackage) int { return cmp.Compare(x.ID, y.ID) })
	return out, err
}

// DisplayNames returns the display names, as of as, of the given ids of
// subjects (users, groups, service principals), access packages,
// catalogs, resources, policies and connected organizations, deleted ones
// included: the name in the version in force at as.Of (for one deleted by
// then, its last name before; for one created after, its first name known
// at as.KnownAt) among the versions known at as.KnownAt. Ids it does not
// know, or did not know at as.KnownAt, are left out of the map.
func (p *Projector) DisplayNames(ctx context.Context, ids []string, as As) (map[string]string, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	named := []string{kindUser, kindGroup, kindServicePrincipal, kindAccessPackage, kindCatalog, kindResource,
		kindPolicy, kindConnectedOrganization}
	names := make(map[string]string, len(ids))
	err = eachNamedAt(ctx, db, ids, as, false, func(kind, id, name string, data []byte) error {
		if data != nil {
			var v struct { // what a name is made of, as the objects table has it
				DisplayName       string `json:"displayName"`
				UserPrincipalName string `json:"userPrincipalName"`
			}
			if err := jsonv2.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("projection: read display names: %s %s: %w", kind, id, err)
			}
			name = v.DisplayName
			if kind == kindUser {
				name = userName(&entitlement.User{ID: id, DisplayName: v.DisplayName, UserPrincipalName: v.UserPrincipalName})
			}
		}
		if name != "" && slices.Contains(named, kind) {
			names[id] = name
		}
		return nil
	})
	return names, err
}

// TypeOf returns the type of the object the projection knows by id
// (TypeUser, TypeAccessPackage, or another of Graph's type names, as an
// audit entry's Target.Type has them), deleted ones included: what kind of
// thing an id names, whatever it is now. It is ErrNotFound for an id the
// projection never knew.
func (p *Projector) TypeOf(ctx context.Context, id string) (string, error) {
	db, err := p.view(ctx)
	if err != nil {
		return "", err
	}
	defer endView(db)
	var kind string
	err = db.QueryRowContext(ctx, "SELECT kind FROM objects WHERE id = ? ORDER BY kind LIMIT 1", id).Scan(&kind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("%w: no object has the id %q", ErrNotFound, id)
	case err != nil:
		return "", fmt.Errorf("projection: read objects: %w", err)
	}
	return kind, nil
}

// Users returns the users among the given ids as of as, chosen as
// DisplayNames chooses their names: a user deleted by then as they last
// were, one created after as first known at as.KnownAt. Ids of anything
// else, or that it does not know, are left out of the map.
func (p *Projector) Users(ctx context.Context, ids []string, as As) (map[string]entitlement.User, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	users := make(map[string]entitlement.User, len(ids))
	err = eachNamedAt(ctx, db, ids, as, true, func(kind, id, _ string, data []byte) error {
		if kind != kindUser || data == nil {
			return nil
		}
		var u entitlement.User
		if err := jsonv2.Unmarshal(data, &u); err != nil {
			return fmt.Errorf("projection: read users: %s: %w", id, err)
		}
		users[id] = u
		return nil
	})
	return users, err
}

// eachNamedAt calls f with the kind, id and data of each object among ids
// in the version in force at as.Of among those known at as.KnownAt (for
// one deleted by then, its last version before; for one created after, its
// first), or as it is now, with its display name and, if data is set, its
// data.
func eachNamedAt(ctx context.Context, db *sql.Conn, ids []string, as As, data bool, f func(kind, id, name string, data []byte) error) error {
	q := "SELECT kind, id, display_name, NULL FROM objects x WHERE id IN "
	if data {
		q = "SELECT kind, id, display_name, data FROM objects x WHERE id IN "
	}
	var pre []any
	if !as.latest() {
		// The version chosen: the last valid at as.Of, else the first
		// valid after it, skipping deletions.
		t, pos := as.bounds()
		q = `SELECT kind, id, '', (SELECT v.data FROM versions v WHERE v.oid = x.oid AND v.known_from <= ? AND v.known_to > ?
			AND v.data IS NOT NULL ORDER BY v.valid_from <= ? DESC, abs(v.valid_from - ?) LIMIT 1) FROM objects x WHERE id IN `
		pre = []any{pos, pos, t, t}
	}
	const chunk = 500
	uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
	for len(uniq) > 0 {
		n := min(chunk, len(uniq))
		args := slices.Clone(pre)
		for _, id := range uniq[:n] {
			args = append(args, id)
		}
		uniq = uniq[n:]
		rows, err := db.QueryContext(ctx, q+"("+marks(n)+")", args...)
		if err != nil {
			return fmt.Errorf("projection: read objects: %w", err)
		}
		for rows.Next() {
			var kind, id, name string
			var data []byte
			if err := rows.Scan(&kind, &id, &name, &data); err != nil {
				rows.Close()
				return fmt.Errorf("projection: read objects: %w", err)
			}
			if err := f(kind, id, name, data); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("projection: read objects: %w", err)
		}
	}
	return nil
}

// marks returns n comma-separated SQL parameters.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Resource returns a resource as of as.
func (p *Projector) Resource(ctx context.Context, id string, as As) (entitlement.Resource, error) {
	db, err := p.view(ctx)
	if err != nil {
		return entitlement.Resource{}, err
	}
	defer endView(db)
	return getAt(ctx, db, as, resources, id)
}
