-- The indexes only queries read: created with the schema of a new
-- projection, and by Rebuild after it has applied the log (an index built
-- from sorted rows, in one pass, costs a fraction of keeping it up to date
-- row by row). The indexes that applying events reads are in schema.sql.
CREATE INDEX objects_by_name ON objects (kind, display_name);
CREATE INDEX objects_by_id ON objects (id);
-- Listings go in order of creation and id, so that a page is read in
-- order from an index and stops at its size; each index also holds oid
-- (and, for a package's listing as of the past, the begin and the end,
-- and the target that additional access matches), so that a row costs no
-- look-up in the table itself.
CREATE INDEX assignments_by_created ON assignments (created, id, oid);
CREATE INDEX assignments_by_package_created ON assignments (access_package_id, created, id, oid, began, position, ended_at, ended_known,
	target_id);
CREATE INDEX assignments_live_by_package ON assignments (access_package_id, ended_at, created, id, oid);
CREATE INDEX assignments_by_target ON assignments (target_id, created, id, oid);
CREATE INDEX requests_by_created ON requests (created, id, oid);
CREATE INDEX requests_by_package ON requests (access_package_id, created, id, oid);
CREATE INDEX requests_by_requestor ON requests (requestor_id, created, id, oid);
CREATE INDEX requests_by_target ON requests (target_id, created, id, oid);
CREATE INDEX decisions_by_request ON decisions (request_id, position);
CREATE INDEX grants_by_subject ON grants (subject_id, resource_id, role_id);
-- The live grants of a role in the holders' order, with what a page of
-- the present reads of each (its assignment's row number and policy
-- version): a role's ended grants are not read.
CREATE INDEX grants_live ON grants (resource_id, role_id, ended_at, assignment_id, resource_role_scope_id, oid, policy_version);
CREATE INDEX audit_by_time ON audit (activity_time, position);
CREATE INDEX audit_by_actor ON audit (actor_id, activity_time, position);
CREATE INDEX audit_by_activity ON audit (activity, activity_time, position);
