package entitlement_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/entitlement/entitlementtest"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

// executeMutated runs commands of a random tenant, each with some of its
// fields replaced by random values (odd strings, control characters,
// invalid UTF-8, long text, extreme numbers), by their drawn actors. Every
// outcome is a success or an error that matches exactly one of the
// package's sentinels, never a panic, and a refused command appends
// nothing.
func executeMutated(t *rapid.T) {
	ctx := context.Background()
	w := entitlementtest.NewWorld(t, memstore.New(memstore.Options{}))
	sentinels := []error{entitlement.ErrForbidden, entitlement.ErrNotFound, entitlement.ErrInvalid, entitlement.ErrConflict, entitlement.ErrLimit}
	for range rapid.IntRange(1, 12).Draw(t, "commands") {
		a, cmd, ok := w.DrawCommand(t)
		if !ok {
			continue
		}
		cmd = mutate(t, cmd)
		before, err := w.Store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.M.Execute(ctx, a, cmd)
		if err == nil {
			continue
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		var e *entitlement.Error
		if n != 1 || !errors.As(err, &e) {
			t.Fatalf("%T refused with %d sentinels (%T): %v", cmd, n, err, err)
		}
		after, err := w.Store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Fatalf("%T was refused (%v) and appended %d events", cmd, e, after.Position-before.Position)
		}
	}
}

// mutate returns a copy of cmd with some of its strings, numbers and
// flags replaced by drawn values.
func mutate(t *rapid.T, cmd entitlement.Command) entitlement.Command {
	if !rapid.Bool().Draw(t, "mutate") {
		return cmd
	}
	v := reflect.New(reflect.TypeOf(cmd)).Elem()
	v.Set(reflect.ValueOf(cmd))
	mutateValue(t, v, 0)
	return v.Interface().(entitlement.Command)
}

var oddStrings = []string{"", " ", "\x00", "a\nb", "\xff\xfe", "\u0085", strings.Repeat("x", 5000), "00000000-0000-0000-0000-000000000000",
	"../../etc", "<script>", "É", "\u2028", "Sales"}

func mutateValue(t *rapid.T, v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				mutateValue(t, f, depth+1)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			mutateValue(t, v.Elem(), depth+1)
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutateValue(t, v.Index(i), depth+1)
		}
	case reflect.String:
		if rapid.IntRange(0, 3).Draw(t, "touch") == 0 {
			s := rapid.OneOf(rapid.SampledFrom(oddStrings), rapid.String()).Draw(t, "string")
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if rapid.IntRange(0, 3).Draw(t, "touch") == 0 {
			v.SetInt(rapid.Int64().Draw(t, "int"))
		}
	case reflect.Bool:
		if rapid.IntRange(0, 3).Draw(t, "touch") == 0 {
			v.SetBool(!v.Bool())
		}
	}
}

func TestPropertyExecuteMutated(t *testing.T) {
	rapid.Check(t, executeMutated)
}

// FuzzExecute is executeMutated under the fuzzer:
// go test ./entitlement -run '^$' -fuzz FuzzExecute
func FuzzExecute(f *testing.F) {
	for _, seed := range []string{"", "\x01\x02\x03", "mutate every field", strings.Repeat("\xff", 64)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(rapid.MakeFuzz(executeMutated))
}
