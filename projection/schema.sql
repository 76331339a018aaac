-- The projection's schema. It is not migrated: a projection written with
-- another schema version is deleted and rebuilt from the log (see
-- schemaVersion in projector.go, which must change with this file).
--
-- Times are Unix nanoseconds. "valid" times are when a fact held in the
-- world (entitlement.ValidTime: an expiry at its end, not when ProcessDue
-- recorded it); "known" positions are the log positions from which the
-- projection knew it. known_to is 9223372036854775807 while a row is
-- still believed.

-- meta holds the schema version and the checkpoint: the position and hash
-- of the last event applied, written in the transaction that applied it.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- objects holds every object the log ever named, in Graph's JSON: users,
-- groups, service principals, catalogs, resources, access packages,
-- assignment policies, connected organizations, role assignments, the
-- tenant settings, assignment requests and assignments. data is the
-- current version (NULL once deleted); valid_from and known_from say
-- which version that is. parent_id is the catalog of a resource, an access
-- package or a catalog-scoped role assignment, and the access package of
-- a policy, a request or an assignment.
CREATE TABLE objects (
	oid          INTEGER PRIMARY KEY,
	kind         TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	parent_id    TEXT    NOT NULL,
	display_name TEXT    NOT NULL,
	data         TEXT,
	valid_from   INTEGER NOT NULL,
	known_from   INTEGER NOT NULL,
	UNIQUE (kind, id)
) STRICT;

CREATE INDEX objects_by_parent ON objects (kind, parent_id);

-- versions is every version of every object, bitemporally: the version
-- with the latest valid_from at or before an instant, among the rows
-- believed at a position, is the object as of that instant as known at
-- that position. data is NULL where the object did not exist (deleted).
-- A fact recorded late (valid before versions already known) closes those
-- versions (known_to) and replaces them with versions that include it.
CREATE TABLE versions (
	oid        INTEGER NOT NULL,
	valid_from INTEGER NOT NULL,
	known_from INTEGER NOT NULL,
	known_to   INTEGER NOT NULL,
	data       TEXT
) STRICT;

CREATE UNIQUE INDEX versions_by_object ON versions (oid, valid_from, known_from);

-- assignments and requests index the objects of those kinds by the
-- columns queries select on; state is the current one, position the one
-- that created the object, created its createdDateTime (the order of
-- listings, which pages follow). An assignment's began is the valid time
-- of the event that created it (its first version's valid_from, which a
-- start recorded late puts before createdDateTime); an ended assignment's
-- ended_at is the valid time (Unix nanoseconds) its end held from,
-- ended_known the position from which it was known: queries as of the
-- past skip the assignments not begun or already ended by then without
-- reading their versions.
CREATE TABLE assignments (
	id                   TEXT    PRIMARY KEY,
	oid                  INTEGER NOT NULL,
	access_package_id    TEXT    NOT NULL,
	assignment_policy_id TEXT    NOT NULL,
	target_id            TEXT    NOT NULL,
	request_id           TEXT    NOT NULL,
	state                TEXT    NOT NULL,
	position             INTEGER NOT NULL,
	created              INTEGER NOT NULL,
	began                INTEGER NOT NULL,
	ended_at             INTEGER,
	ended_known          INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX assignments_by_package ON assignments (access_package_id, state, created, id, oid);

CREATE TABLE requests (
	id                   TEXT    PRIMARY KEY,
	oid                  INTEGER NOT NULL,
	access_package_id    TEXT    NOT NULL,
	assignment_policy_id TEXT    NOT NULL,
	policy_version       INTEGER NOT NULL,
	target_id            TEXT    NOT NULL,
	requestor_id         TEXT    NOT NULL,
	state                TEXT    NOT NULL,
	position             INTEGER NOT NULL,
	created              INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- request_approvers lists everyone a request's stages ever named as an
-- approver (primary or escalation): the requests an approver may have
-- been asked about.
CREATE TABLE request_approvers (
	approver_id TEXT NOT NULL,
	request_id  TEXT NOT NULL,
	PRIMARY KEY (approver_id, request_id)
) STRICT, WITHOUT ROWID;

-- decisions is every approval decision: who decided, when, with what
-- justification, on whose behalf, recorded at which position.
CREATE TABLE decisions (
	position      INTEGER PRIMARY KEY,
	request_id    TEXT    NOT NULL,
	stage_id      TEXT    NOT NULL,
	stage         INTEGER NOT NULL,
	result        TEXT    NOT NULL,
	reviewed_by   TEXT    NOT NULL,
	reviewed_at   INTEGER NOT NULL,
	justification TEXT    NOT NULL,
	actor_id      TEXT    NOT NULL,
	on_behalf_of  TEXT    NOT NULL
) STRICT;

-- deliveries is every delivery outcome of a resource role of an
-- assignment: granted, failed (with the reason), removed, removal failed.
CREATE TABLE deliveries (
	assignment_id          TEXT    NOT NULL,
	resource_role_scope_id TEXT    NOT NULL,
	position               INTEGER NOT NULL,
	outcome                TEXT    NOT NULL,
	reason                 TEXT    NOT NULL,
	valid_at               INTEGER NOT NULL,
	PRIMARY KEY (assignment_id, resource_role_scope_id, position)
) STRICT, WITHOUT ROWID;

-- grants lists every resource role an assignment ever listed: the ways a
-- subject may have held a role. Whether it held it at an instant is the
-- assignment's version then. oid, began and position are the
-- assignment's, and ended_at and ended_known too (see assignments), set
-- on the roles it listed when it ended; policy_version is that of the
-- request that created it (NULL if the projection does not know it). The
-- holders of a role, now or as of the past, are read from the grants
-- alone, skipping those of assignments not begun or already ended by
-- then, and then the one version of each assignment held.
CREATE TABLE grants (
	resource_id            TEXT    NOT NULL,
	role_id                TEXT    NOT NULL,
	assignment_id          TEXT    NOT NULL,
	resource_role_scope_id TEXT    NOT NULL,
	scope_id               TEXT    NOT NULL,
	subject_id             TEXT    NOT NULL,
	oid                    INTEGER NOT NULL,
	began                  INTEGER NOT NULL,
	position               INTEGER NOT NULL,
	policy_version         INTEGER,
	ended_at               INTEGER,
	ended_known            INTEGER,
	PRIMARY KEY (resource_id, role_id, assignment_id, resource_role_scope_id)
) STRICT, WITHOUT ROWID;

-- policy_versions keeps every version of every assignment policy, numbered
-- as requests name them (1 when created, one more with each replacement).
CREATE TABLE policy_versions (
	policy_id TEXT    NOT NULL,
	position  INTEGER NOT NULL,
	version   INTEGER NOT NULL,
	data      TEXT    NOT NULL,
	PRIMARY KEY (policy_id, position)
) STRICT, WITHOUT ROWID;

-- audit is the audit log: one row per event, in the style of Entra's
-- AuditLogs. activity_time is when the fact held (the event's valid
-- time), occurred_at when it was decided and recorded_at when the log
-- stored it. targets and modified are JSON arrays (targetResources,
-- modifiedProperties).
CREATE TABLE audit (
	position       INTEGER PRIMARY KEY,
	event_id       TEXT    NOT NULL,
	hash           TEXT    NOT NULL,
	type           TEXT    NOT NULL,
	activity       TEXT    NOT NULL,
	category       TEXT    NOT NULL,
	result         TEXT    NOT NULL,
	activity_time  INTEGER NOT NULL,
	occurred_at    INTEGER NOT NULL,
	recorded_at    INTEGER NOT NULL,
	actor_id       TEXT    NOT NULL,
	actor_kind     TEXT    NOT NULL,
	actor_name     TEXT    NOT NULL,
	on_behalf_of   TEXT    NOT NULL,
	command_id     TEXT    NOT NULL,
	correlation_id TEXT    NOT NULL,
	targets        TEXT    NOT NULL,
	modified       TEXT    NOT NULL
) STRICT;

-- audit_targets lets the audit log be filtered by any of an event's
-- targets, in activity time order.
CREATE TABLE audit_targets (
	target_id     TEXT    NOT NULL,
	activity_time INTEGER NOT NULL,
	position      INTEGER NOT NULL,
	PRIMARY KEY (target_id, activity_time, position)
) STRICT, WITHOUT ROWID;

-- Views for reading the projection with SQL: each kind of object as it is
-- now, with the columns reports select on, and its Graph JSON. History is
-- in versions (see As in query.go for how to read it).
CREATE VIEW users AS
	SELECT id, display_name, data ->> '$.userPrincipalName' AS user_principal_name, data ->> '$.userType' AS user_type,
		data ->> '$.department' AS department, data ->> '$.managerId' AS manager_id,
		data ->> '$.connectedOrganizationId' AS connected_organization_id, data ->> '$.accountEnabled' AS account_enabled, data
	FROM objects WHERE kind = 'User' AND data IS NOT NULL;

CREATE VIEW groups AS
	SELECT id, display_name, data FROM objects WHERE kind = 'Group' AND data IS NOT NULL;

CREATE VIEW catalogs AS
	SELECT id, display_name, data ->> '$.catalogType' AS catalog_type, data ->> '$.state' AS state, data
	FROM objects WHERE kind = 'AccessPackageCatalog' AND data IS NOT NULL;

CREATE VIEW resources AS
	SELECT id, parent_id AS catalog_id, display_name, data ->> '$.originSystem' AS origin_system,
		data ->> '$.originId' AS origin_id, data
	FROM objects WHERE kind = 'AccessPackageResource' AND data IS NOT NULL;

CREATE VIEW resource_roles AS
	SELECT o.id AS resource_id, r.value ->> '$.id' AS id, r.value ->> '$.displayName' AS display_name,
		r.value ->> '$.originId' AS origin_id
	FROM objects o, json_each(o.data, '$.roles') r WHERE o.kind = 'AccessPackageResource' AND o.data IS NOT NULL;

CREATE VIEW resource_scopes AS
	SELECT o.id AS resource_id, s.value ->> '$.id' AS id, s.value ->> '$.displayName' AS display_name,
		s.value ->> '$.originId' AS origin_id, s.value ->> '$.isRootScope' AS is_root_scope
	FROM objects o, json_each(o.data, '$.scopes') s WHERE o.kind = 'AccessPackageResource' AND o.data IS NOT NULL;

CREATE VIEW access_packages AS
	SELECT id, parent_id AS catalog_id, display_name, data ->> '$.isHidden' AS is_hidden, data
	FROM objects WHERE kind = 'AccessPackage' AND data IS NOT NULL;

CREATE VIEW role_scopes AS
	SELECT rs.value ->> '$.id' AS id, o.id AS access_package_id, rs.value ->> '$.resourceId' AS resource_id,
		rs.value ->> '$.roleId' AS role_id, rs.value ->> '$.scopeId' AS scope_id
	FROM objects o, json_each(o.data, '$.resourceRoleScopes') rs WHERE o.kind = 'AccessPackage' AND o.data IS NOT NULL;

CREATE VIEW assignment_policies AS
	SELECT id, parent_id AS access_package_id, display_name, data ->> '$.allowedTargetScope' AS allowed_target_scope, data,
		(SELECT max(v.version) FROM policy_versions v WHERE v.policy_id = objects.id) AS version
	FROM objects WHERE kind = 'AccessPackageAssignmentPolicy' AND data IS NOT NULL;

CREATE VIEW connected_organizations AS
	SELECT id, display_name, data ->> '$.state' AS state, data
	FROM objects WHERE kind = 'ConnectedOrganization' AND data IS NOT NULL;

CREATE VIEW role_assignments AS
	SELECT id, data ->> '$.principalId' AS principal_id, data ->> '$.roleDefinitionId' AS role_definition_id,
		data ->> '$.appScopeId' AS app_scope_id, data
	FROM objects WHERE kind = 'UnifiedRoleAssignment' AND data IS NOT NULL;
