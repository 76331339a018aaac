// Package entitlement is accessledger's domain: entitlement management as
// Microsoft Entra ID has it (catalogs, resources, access packages,
// assignment policies, requests, approvals, assignments, connected
// organizations and delegation), modelled as commands that are decided
// against a State and events that evolve it.
//
// Deciding is a pure function of the state, the command, the actor and the
// time; applying events is the only way the state changes, so replaying the
// log gives back exactly the same state. Names and enum values follow
// Microsoft Graph v1.0.
package entitlement
