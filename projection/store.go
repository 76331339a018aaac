package projection

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
)

// current is what the projection knows of an object now: its row in
// objects.
type current struct {
	oid                  int64 // 0: never written
	data                 []byte
	name, parent         string
	validFrom, knownFrom int64
	// rowName and rowParent are the display name and parent the objects
	// row holds: a flush that changes neither leaves their indexes alone.
	rowName, rowParent string
	// value is data decoded (a *T of its kind), once something decoded
	// it: changes start from it instead of decoding data again.
	value any
	// dirty is set while the row awaits flushObjects; indexed is what the
	// kind's index tables last recorded of the current version.
	dirty   bool
	indexed string
}

// version is one version of an object: its JSON (nil where the object does
// not exist), with the display name and parent the objects table shows.
type version struct {
	data         []byte
	name, parent string
	value        any // data decoded, if at hand
}

// current returns an object's row, from the batch's cache if it has it.
func (b *batch) current(kind, id string) (*current, error) {
	key := kind + "\x00" + id
	if c, ok := b.cache[key]; ok {
		return c, nil
	}
	c := &current{}
	err := b.getObject.QueryRowContext(b.ctx, kind, id).Scan(&c.oid, &c.data, &c.name, &c.parent, &c.validFrom, &c.knownFrom)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("projection: read %s %s: %w", kind, id, err)
	}
	c.rowName, c.rowParent = c.name, c.parent
	b.cache[key] = c
	return c, nil
}

// name returns an object's display name as the projection knows it now.
func (b *batch) name(kind, id string) string {
	if id == "" {
		return ""
	}
	c, err := b.current(kind, id)
	if err != nil {
		return ""
	}
	return c.name
}

// exists reports whether the projection knows an object that is not
// deleted.
func (b *batch) exists(kind, id string) bool {
	c, err := b.current(kind, id)
	return err == nil && c.data != nil
}

// update changes one object as the event being applied changes it, as of
// the event's valid time b.valid and known from its position b.pos. f maps
// a version to its new version and reports whether it changed it. f is
// applied to the version in force at b.valid and, for a fact recorded late
// (valid before versions already known), to every later version too: each
// becomes what it would have been had the fact been known when it was
// recorded. That is the as-of rule: the object as of an instant T, as
// known at position P, is the fold of the events up to P that were valid
// at T, in log order; and an event recorded at P comes after all of them.
//
// written is called with every version written, and last reports whether
// that version is the object's current one. update returns the current
// version's JSON before and after.
//
// f is given the version's JSON and, for the current version, its decoded
// value if the cache has it, which f may change in place.
func (b *batch) update(kind, id string, f func(old []byte, value any) (version, bool, error), written func(v version, last bool) error) (before, after []byte, err error) {
	c, err := b.current(kind, id)
	if err != nil {
		return nil, nil, err
	}
	before = c.data
	if c.oid == 0 || b.valid >= c.validFrom {
		nv, changed, err := f(c.data, c.value)
		if err != nil || !changed || bytes.Equal(nv.data, c.data) {
			return before, before, err
		}
		inserted := c.oid == 0
		if inserted {
			res, err := b.insertObject.ExecContext(b.ctx, kind, id, nv.parent, nv.name, text(nv.data), b.valid, b.pos)
			if err != nil {
				return nil, nil, fmt.Errorf("projection: insert %s %s: %w", kind, id, err)
			}
			if c.oid, err = res.LastInsertId(); err != nil {
				return nil, nil, err
			}
			c.validFrom, c.knownFrom, c.rowName, c.rowParent = b.valid, b.pos, nv.name, nv.parent
		}
		replaces := c.knownFrom != b.pos && c.validFrom == b.valid
		if err := b.writeVersion(c.oid, b.valid, c.knownFrom, replaces, nv.data); err != nil {
			return nil, nil, err
		}
		c.data, c.name, c.parent, c.validFrom, c.knownFrom, c.value = nv.data, nv.name, nv.parent, b.valid, b.pos, nv.value
		if !inserted { // the row just inserted holds all of it
			b.saveObject(c)
		}
		if written != nil {
			return before, c.data, written(nv, true)
		}
		return before, c.data, nil
	}
	// Recorded late: the versions from the one in force at b.valid on.
	rows, err := b.laterVersions.QueryContext(b.ctx, c.oid, b.valid)
	if err != nil {
		return nil, nil, fmt.Errorf("projection: read the versions of %s %s: %w", kind, id, err)
	}
	type row struct {
		validFrom, knownFrom int64
		data                 []byte
	}
	var vs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.validFrom, &r.knownFrom, &r.data); err != nil {
			rows.Close()
			return nil, nil, err
		}
		vs = append(vs, r)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	if len(vs) == 0 || vs[0].validFrom > b.valid {
		// Nothing was in force at b.valid: the object did not exist yet.
		vs = append([]row{{validFrom: b.valid, knownFrom: -1}}, vs...)
	}
	for i, r := range vs {
		nv, changed, err := f(r.data, nil)
		if err != nil {
			return nil, nil, err
		}
		last := i == len(vs)-1
		validFrom := max(r.validFrom, b.valid)
		if !changed || bytes.Equal(nv.data, r.data) {
			continue
		}
		// A version in force at b.valid that began earlier keeps its
		// beginning and is followed by a new one; the others are replaced.
		replaces := r.knownFrom >= 0 && r.validFrom == validFrom
		if err := b.writeVersion(c.oid, validFrom, r.knownFrom, replaces, nv.data); err != nil {
			return nil, nil, err
		}
		if last {
			c.data, c.name, c.parent, c.knownFrom, c.value = nv.data, nv.name, nv.parent, b.pos, nv.value
			c.validFrom = validFrom
			b.saveObject(c)
		}
		if written != nil {
			if err := written(nv, last); err != nil {
				return nil, nil, err
			}
		}
	}
	return before, c.data, nil
}

// writeVersion writes a version of an object valid from validFrom, known
// from the event being applied. If replaces, it replaces the believed
// version with the same valid time, known from knownFrom: that one is
// closed, unless the same event wrote it.
func (b *batch) writeVersion(oid, validFrom, knownFrom int64, replaces bool, data []byte) error {
	if replaces && knownFrom == b.pos {
		_, err := b.setVersion.ExecContext(b.ctx, text(data), oid, validFrom, knownFrom)
		return err
	}
	if replaces {
		if _, err := b.closeVersion.ExecContext(b.ctx, b.pos, oid, validFrom, knownFrom); err != nil {
			return fmt.Errorf("projection: close a version: %w", err)
		}
	}
	if _, err := b.insertVersion.ExecContext(b.ctx, oid, validFrom, b.pos, text(data)); err != nil {
		return fmt.Errorf("projection: write a version: %w", err)
	}
	return nil
}

// saveObject marks an object's row to be written when the batch flushes.
func (b *batch) saveObject(c *current) {
	if !c.dirty {
		c.dirty = true
		b.dirty = append(b.dirty, c)
	}
}

// flushObjects writes the objects rows changed since the last flush.
func (b *batch) flushObjects() error {
	for _, c := range b.dirty {
		var err error
		if c.name == c.rowName && c.parent == c.rowParent {
			// SQLite rewrites the index entries of every column an UPDATE
			// sets, changed or not.
			_, err = b.updateObjectData.ExecContext(b.ctx, text(c.data), c.validFrom, c.knownFrom, c.oid)
		} else {
			_, err = b.updateObject.ExecContext(b.ctx, c.parent, c.name, text(c.data), c.validFrom, c.knownFrom, c.oid)
		}
		if err != nil {
			return fmt.Errorf("projection: write an object: %w", err)
		}
		c.dirty, c.rowName, c.rowParent = false, c.name, c.parent
	}
	b.dirty = b.dirty[:0]
	return nil
}

// text binds JSON to a TEXT column: NULL for none.
func text(data []byte) any {
	if data == nil {
		return nil
	}
	return string(data)
}

// kind is one kind of object, stored as the JSON of T.
type kind[T any] struct {
	name   string
	id     func(*T) string
	title  func(*T) string // display name
	parent func(*T) string
	// index, if set, keeps the kind's index tables: it is called with
	// every version written (nil where the object does not exist) and
	// whether it is the current one.
	index func(b *batch, id string, x *T, last bool) error
}

// change changes an object of the kind by f, which is given each version
// the change applies to (see batch.update) and reports whether the object
// exists after it and whether it changed it.
func (k *kind[T]) change(b *batch, id string, f func(x *T, exists bool) (keep, changed bool)) (before, after []byte, err error) {
	var cur *T
	var curOK bool
	evolve := func(data []byte, value any) (version, bool, error) {
		x, exists := new(T), data != nil
		if v, ok := value.(*T); ok {
			x = v
		} else if exists {
			if err := jsonv2.Unmarshal(data, x); err != nil {
				return version{}, false, fmt.Errorf("projection: decode %s %s: %w", k.name, id, err)
			}
		}
		keep, changed := f(x, exists)
		if !changed {
			return version{}, false, nil
		}
		cur, curOK = x, keep
		if !keep {
			// Gone: the row keeps its last name and parent, so that it is
			// still named (DisplayNames) and found in its catalog as of
			// before; the views and the latest reads go by its data.
			v := version{name: k.title(x)}
			if k.parent != nil {
				v.parent = k.parent(x)
			}
			return v, true, nil
		}
		out, err := json.Marshal(x)
		if err != nil {
			return version{}, false, err
		}
		v := version{data: out, name: k.title(x), value: x}
		if k.parent != nil {
			v.parent = k.parent(x)
		}
		return v, true, nil
	}
	var written func(version, bool) error
	if k.index != nil {
		written = func(v version, last bool) error {
			if !curOK {
				return k.index(b, id, nil, last)
			}
			return k.index(b, id, cur, last)
		}
	}
	return b.update(k.name, id, evolve, written)
}

// put stores x as the object's new version.
func (k *kind[T]) put(b *batch, x T) (before, after []byte, err error) {
	return k.change(b, k.id(&x), func(y *T, _ bool) (bool, bool) {
		*y = x
		return true, true
	})
}

// evolve changes an existing object by f, which reports whether it
// changed it.
func (k *kind[T]) evolve(b *batch, id string, f func(*T) bool) (before, after []byte, err error) {
	return k.change(b, id, func(x *T, exists bool) (bool, bool) {
		if !exists {
			return false, false
		}
		return true, f(x)
	})
}

// remove marks the object deleted.
func (k *kind[T]) remove(b *batch, id string) (before, after []byte, err error) {
	return k.change(b, id, func(_ *T, exists bool) (bool, bool) { return false, exists })
}

// get returns the object's current version, which the caller must not
// change.
func (k *kind[T]) get(b *batch, id string) (*T, bool, error) {
	c, err := b.current(k.name, id)
	if err != nil || c.data == nil {
		return nil, false, err
	}
	if x, ok := c.value.(*T); ok {
		return x, true, nil
	}
	x := new(T)
	if err := jsonv2.Unmarshal(c.data, x); err != nil {
		return nil, false, fmt.Errorf("projection: decode %s %s: %w", k.name, id, err)
	}
	c.value = x
	return x, true, nil
}
