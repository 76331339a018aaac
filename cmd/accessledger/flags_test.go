package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

// TestReadingFlags: flags of the reading commands that the other tests
// leave at their defaults, on the demo's log.
func TestReadingFlags(t *testing.T) {
	db := demoLog(t)

	// why answers as of the instant and as known at the position asked,
	// and says so; --role takes the role's id as well as its name.
	code, out, errOut := runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--as-of", "2026-04-05")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Anna Adams did not hold Member of Sales team at 2026-04-05T00:00:00Z",
		"between her first assignment's expiry and her second one")
	code, out, errOut = runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team",
		"--as-of", "2026-04-02T15:00:00Z", "--as-known-at", "88")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Anna Adams held Member of Sales team at 2026-04-02T15:00:00Z, as known at position 88:",
		"before ProcessDue recorded the expiry, the system believed she held it")

	code, out, errOut = runCLI(t, "report", "resources", "--db", db, "--user", "Anna Adams", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		GeneratedDateTime time.Time `json:"generatedDateTime"`
		Value             []struct {
			Resource struct {
				DisplayName string `json:"displayName"`
			} `json:"accessPackageResource"`
			Role struct {
				ID          string `json:"id"`
				DisplayName string `json:"displayName"`
			} `json:"accessPackageResourceRole"`
		} `json:"value"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.WithinDuration(t, time.Now(), doc.GeneratedDateTime, time.Hour, "a report the command writes says when it was made")
	var roleID string
	for _, v := range doc.Value {
		if v.Resource.DisplayName == "Sales team" && v.Role.DisplayName == "Member" {
			roleID = v.Role.ID
		}
	}
	require.NotEmpty(t, roleID)
	require.NotEqual(t, "Member", roleID)
	code, out, errOut = runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--role", roleID, "--as-of", "2026-03-22")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Anna Adams held Member of Sales team at 2026-03-22T00:00:00Z")

	// Comma-separated lists may have spaces after the commas.
	archive := filepath.Join(t.TempDir(), "spaced.tar.gz")
	code, _, errOut = runCLI(t, "archive", "--db", db, "--out", archive, "--reports", "access-packages, resources",
		"--user", "Anna Adams, Ben Brown", "--format", "csv, json")
	require.Equal(t, 0, code, errOut)
	// Verified without a key or the live log, it says what it did not check.
	code, out, errOut = runCLI(t, "verify-archive", "--archive", archive)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "signature not checked (no --public-key)")
	assert.Contains(t, out, "not checked against the live log (no --db)")

	// A plain --expect-head has no signature for --public-key to check.
	key := filepath.Join(t.TempDir(), "signer")
	code, _, errOut = runCLI(t, "keygen", "--out", key)
	require.Equal(t, 0, code, errOut)
	code, head, errOut := runCLI(t, "head", "--db", db)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = runCLI(t, "verify", "--db", db, "--expect-head", strings.TrimSpace(head), "--public-key", key+".pub")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "is not signed")
}

// TestWhyFailsOnAChangedLog: why, like report why, exits 1 when an event
// it cites is not in the log as cited.
func TestWhyFailsOnAChangedLog(t *testing.T) {
	db := demoLog(t)
	tamper(t, db, `UPDATE events SET payload = '{"forged":true}' WHERE type = 'assignmentRequestCreated'`)
	code, out, errOut := runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--as-of", "2026-03-22")
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, out, "checked against the log: FAILED")
	assert.NotContains(t, out, "every cited event is there")
}

// TestAmbiguousNames: a name that two users, or two resources, have is
// refused with their ids, not resolved to one of them.
func TestAmbiguousNames(t *testing.T) {
	db := demoLog(t)
	const otherAnna, otherTeam = "b0000000-0000-4000-8000-0000000000a1", "b0000000-0000-4000-8000-0000000000a2"
	func() {
		ctx := context.Background()
		log, err := sqlitestore.Open(db, sqlitestore.Options{})
		require.NoError(t, err)
		defer log.Close()
		m, err := entitlement.NewManager(ctx, log, entitlement.Options{})
		require.NoError(t, err)
		sys := entitlement.SystemActor()
		_, err = m.Execute(ctx, sys, entitlement.PutUser{User: entitlement.User{ID: otherAnna, DisplayName: "Anna Adams", AccountEnabled: true}})
		require.NoError(t, err)
		_, err = m.Execute(ctx, sys, entitlement.PutGroup{Group: entitlement.Group{ID: otherTeam, DisplayName: "Sales team", SecurityEnabled: true}})
		require.NoError(t, err)
		ada := entitlement.UserActor("a0000000-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)
		_, err = m.Execute(ctx, ada, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: entitlement.GeneralCatalogID,
			Resource: entitlement.ResourceSpec{OriginID: otherTeam, OriginSystem: entitlement.OriginSystemAadGroup}})
		require.NoError(t, err)
	}()
	code, _, errOut := runCLI(t, "report", "access-packages", "--db", db, "--user", "Anna Adams")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, `2 users are named "Anna Adams"`)
	assert.Contains(t, errOut, otherAnna)
	code, _, errOut = runCLI(t, "why", "--db", db, "--user", "a0000000-0000-4000-8000-000000000006", "--resource", "Sales team")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, `2 resources are named "Sales team"`)
	// By id, each is itself.
	code, out, errOut := runCLI(t, "why", "--db", db, "--user", "a0000000-0000-4000-8000-000000000006", "--resource", otherTeam,
		"--as-of", "2026-03-22")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "did not hold Member of Sales team")
}

// TestKeygenOutNamesAFile: an --out that ends in a separator names a
// folder, not the key files.
func TestKeygenOutNamesAFile(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "keygen", "--out", dir+string(os.PathSeparator))
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "names none")
	assert.NoFileExists(t, filepath.Join(dir, ".key"))
	assert.NoFileExists(t, filepath.Join(dir, ".pub"))
}

// TestShortHelp: -h, -help and --h are help asked for, as --help is: on
// stdout, exit 0.
func TestShortHelp(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--h"} {
		code, out, errOut := runCLI(t, "why", h)
		assert.Equal(t, 0, code, h)
		assert.Contains(t, out, "Usage: accessledger why", h)
		assert.Empty(t, errOut, h)
	}
}
