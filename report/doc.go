// Package report turns an accessledger projection into reports people
// read and keep: the assignments of an access package, the access packages
// and resource roles of a user, request history with approvals and
// delivery errors, the audit log, separation-of-duties conflicts,
// connected organizations, catalogs with their packages and resources,
// and why a subject held a resource role.
//
// Build asks the projection and returns a Report, which writes itself as
// CSV, as JSON in Microsoft Graph's property names and enum values, or as
// one self-contained HTML file (no scripts, nothing fetched) with charts
// where a picture says more than a table. Every report can be asked as of
// an instant and as known at a log position; those about a stretch of time
// (assignments, access packages, requests, the audit log) also for a time
// range, and the requests and the audit log for a range of log positions.
// The JSON and HTML forms name the checkpoint (log position and hash) the
// report was read at; CSV holds the table alone.
//
// An archive (WriteArchive, VerifyArchive) is one .tar.gz holding the
// events of a recorded-time range exactly as stored, every report of that
// range, and a manifest with the size and SHA-256 of every file and the
// hash chain at both ends, optionally signed with Ed25519: evidence that can
// be checked later, also against the live log, without trusting whoever
// kept it. docs/archive-format.md specifies it so that anyone can write a
// verifier; docs/tools/verify.py is one.
package report
