package admin

import (
	"slices"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/shared/roles"
	"github.com/portcullis/portcullis/shared/verify"
)

// caller is the authenticated subject of a request, as its verified access
// token describes it. Decisions read Grants only: the token is the
// authority, exactly as at the gateway.
type caller struct {
	Subject   string
	ClientID  string
	Grants    []roles.Grant
	RequestID string
}

func newCaller(tok *verify.Token, requestID string) *caller {
	return &caller{Subject: tok.Subject, ClientID: tok.ClientID, Grants: tok.Roles, RequestID: requestID}
}

// isClient: a client_credentials token, whose subject is the client itself.
func (c *caller) isClient() bool { return c.Subject == c.ClientID }

func (c *caller) actor() identity.Actor {
	return identity.Actor{ID: c.Subject, RequestID: c.RequestID}
}

// can applies the shared role rule: does the caller hold role (or a role
// that satisfies it: administrator anywhere, account_manager in account)
// for a resource of account and application.
func (c *caller) can(role, account, application string) bool {
	return roles.Satisfied(c.Grants, []string{role}, account, application)
}

func (c *caller) admin() bool { return c.can(roles.Administrator, "", "") }

// scope is an account, or one application in it, where a caller may act.
type scope struct {
	Account     string
	Application string // empty: the whole account
}

func (s scope) covers(account, application string) bool {
	return s.Account == account && (s.Application == "" || s.Application == application)
}

// reach lists the scopes where the caller holds one of the application
// roles given, plus every account it manages (account_manager satisfies
// any requirement inside its account). Administrators are handled apart:
// their reach is everything.
func (c *caller) reach(appRoles ...string) []scope {
	var out []scope
	for _, g := range c.Grants {
		var s scope
		switch {
		case g.Role == roles.AccountManager && g.Account != "" && g.Application == "":
			s = scope{Account: g.Account}
		case slices.Contains(appRoles, g.Role) && g.Account != "" && g.Application != "":
			s = scope{Account: g.Account, Application: g.Application}
		default:
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	// Drop application scopes inside an account already reached whole.
	return slices.DeleteFunc(out, func(s scope) bool {
		return s.Application != "" && slices.Contains(out, scope{Account: s.Account})
	})
}

// narrow intersects reach with the request's account/application filter.
func narrow(reach []scope, account, application string) []scope {
	var out []scope
	for _, s := range reach {
		switch {
		case account == "" && application == "":
			out = append(out, s)
		case account == "":
			// An application name without its account: look for it in
			// every account reached whole, or match it exactly.
			if s.Application == "" || s.Application == application {
				out = append(out, scope{Account: s.Account, Application: application})
			}
		case account != s.Account:
		case s.Application == "":
			out = append(out, scope{Account: account, Application: application})
		case application == "" || application == s.Application:
			out = append(out, s)
		}
	}
	return out
}

// Who may read what, on top of the shared rule.
var (
	// Applications (and their account, as a container) are visible to
	// the people who work on them.
	appReaders = []string{roles.Developer, roles.ApplicationManager}
	// Users and grants are visible where the caller may grant roles.
	grantManagers = []string{roles.ApplicationManager}
	// Clients are managed by developers of their application.
	clientManagers = []string{roles.Developer}
)

// canReadAccount: administrators, its account managers, and whoever works
// on one of its applications.
func (c *caller) canReadAccount(account string) bool {
	if c.admin() {
		return true
	}
	for _, s := range c.reach(appReaders...) {
		if s.Account == account {
			return true
		}
	}
	return false
}

func (c *caller) canReadApplication(account, application string) bool {
	return c.admin() || slices.ContainsFunc(c.reach(appReaders...), func(s scope) bool { return s.covers(account, application) })
}

// canManageApplications: create, update and delete applications of account.
func (c *caller) canManageApplications(account string) bool {
	return c.can(roles.AccountManager, account, "")
}

// canSeeGrantsIn: read users holding grants, and those grants, in a scope.
func (c *caller) canSeeGrantsIn(account, application string) bool {
	return c.admin() || slices.ContainsFunc(c.reach(grantManagers...), func(s scope) bool { return s.covers(account, application) })
}

// canGrant decides whether the caller may give or take away role on the
// scope: only administrators touch administrator, account_manager and
// custom roles; an account manager of A hands out the application roles
// inside A; an application manager of A/P hands out developer and consumer
// on A/P. Nobody reaches wider than their own grants.
func (c *caller) canGrant(role, account, application string) bool {
	if c.admin() {
		return true
	}
	if account == "" || application == "" {
		return false
	}
	switch role {
	case roles.ApplicationManager:
		return c.can(roles.AccountManager, account, application)
	case roles.Developer, roles.Consumer:
		return c.can(roles.ApplicationManager, account, application)
	default:
		return false
	}
}

// canManageClient: clients owned by an application are managed by its
// developers (and the account's managers); clients owned by an account by
// its managers; unowned clients by administrators.
func (c *caller) canManageClient(account, application string) bool {
	switch {
	case c.admin():
		return true
	case account == "":
		return false
	case application == "":
		return c.can(roles.AccountManager, account, "")
	default:
		return c.can(roles.Developer, account, application)
	}
}

// canCreateUsers: administrators and account managers (who then grant the
// new user a role in their account).
func (c *caller) canCreateUsers() bool {
	return c.admin() || slices.ContainsFunc(c.Grants, func(g roles.Grant) bool {
		return g.Role == roles.AccountManager && g.Account != "" && g.Application == ""
	})
}
