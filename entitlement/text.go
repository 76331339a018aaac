package entitlement

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The longest strings a command may carry, in characters: display names
// as Graph limits a user's or a group's, anything else (descriptions,
// justifications, rules, ids) to a bound that no real value reaches and
// that keeps a log, and its errors, from growing with careless input.
const (
	MaxDisplayNameLength = 256
	MaxTextLength        = 4000
)

// checkText walks every string a command carries and refuses invalid
// UTF-8, control characters (a display name may not hold even a tab or a
// line break; other text may) and strings over their length, naming the
// field.
func checkText(op string, cmd Command) error {
	var path []string // the field names down to the value; joined only for an error
	return walkText(op, reflect.ValueOf(cmd), &path)
}

func walkText(op string, v reflect.Value, path *[]string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkText(op, v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			*path = append(*path, fieldName(f))
			err := walkText(op, v.Field(i), path)
			*path = (*path)[:len(*path)-1]
			if err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			*path = append(*path, "["+strconv.Itoa(i)+"]")
			err := walkText(op, v.Index(i), path)
			*path = (*path)[:len(*path)-1]
			if err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			*path = append(*path, "{key}")
			err := walkText(op, iter.Key(), path)
			if err == nil {
				(*path)[len(*path)-1] = "{value}"
				err = walkText(op, iter.Value(), path)
			}
			*path = (*path)[:len(*path)-1]
			if err != nil {
				return err
			}
		}
	case reflect.String:
		s := v.String()
		name := ""
		if len(*path) > 0 {
			name = (*path)[len(*path)-1]
		}
		if textOK(name, s) {
			return nil
		}
		return checkString(op, fieldPath(*path), s)
	}
	return nil
}

// fieldPath writes a field path as Graph's JSON paths read:
// stages[0].displayName.
func fieldPath(parts []string) string {
	path := ""
	for _, p := range parts {
		if strings.HasPrefix(p, "[") || strings.HasPrefix(p, "{") {
			path += p
		} else {
			path = joinPath(path, p)
		}
	}
	return path
}

// textOK is checkString's quick yes: plain printable ASCII within the
// length allowed, which is nearly every string.
func textOK(name, s string) bool {
	limit := MaxTextLength
	if name == "displayName" {
		limit = MaxDisplayNameLength
	}
	if len(s) > limit {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func checkString(op, path, s string) error {
	name := path[strings.LastIndexByte(path, '.')+1:]
	limit, lineBreaks := MaxTextLength, true
	if name == "displayName" {
		limit, lineBreaks = MaxDisplayNameLength, false
	}
	if !utf8.ValidString(s) {
		return invalid(op, path, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return invalid(op, path, "has %d characters, more than the %d allowed", n, limit)
	}
	for _, r := range s {
		switch {
		case (r == '\t' || r == '\n' || r == '\r') && lineBreaks:
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return invalid(op, path, "holds the control character %U", r)
		}
	}
	return nil
}

// fieldName is a field's name as Graph's JSON spells it: its json tag, or
// its Go name with a lower-case first letter.
func fieldName(f reflect.StructField) string {
	if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
		return tag
	}
	return strings.ToLower(f.Name[:1]) + f.Name[1:]
}
