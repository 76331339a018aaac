-- The indexes only queries read: created with the schema of a new
-- projection, and by Rebuild after it has applied the log (an index built
-- from sorted rows, in one pass, costs a fraction of keeping it up to date
-- row by row). The indexes that applying events reads are in schema.sql.
CREATE INDEX objects_by_name ON objects (kind, display_name);
CREATE INDEX objects_by_id ON objects (id);
-- Listings go in order of creation (and id, which a WITHOUT ROWID
-- table's index entries end with), so that a page is read in order and
-- stops at its size.
CREATE INDEX assignments_by_created ON assignments (created);
CREATE INDEX assignments_by_package_created ON assignments (access_package_id, created);
CREATE INDEX assignments_live_by_package ON assignments (access_package_id, ended_at, created);
CREATE INDEX assignments_by_target ON assignments (target_id, created);
CREATE INDEX requests_by_created ON requests (created);
CREATE INDEX requests_by_package ON requests (access_package_id, created);
CREATE INDEX requests_by_requestor ON requests (requestor_id, created);
CREATE INDEX requests_by_target ON requests (target_id, created);
CREATE INDEX decisions_by_request ON decisions (request_id, position);
CREATE INDEX grants_by_subject ON grants (subject_id, resource_id, role_id);
CREATE INDEX audit_by_time ON audit (activity_time, position);
CREATE INDEX audit_by_actor ON audit (actor_id, activity_time, position);
CREATE INDEX audit_by_activity ON audit (activity, activity_time, position);
