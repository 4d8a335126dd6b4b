package roles

import (
	"errors"
	"fmt"
	"strings"
)

// The built-in roles, seeded by migration with a fixed scope kind.
const (
	Administrator      = "administrator"       // global
	AccountManager     = "account_manager"     // an account
	ApplicationManager = "application_manager" // an application
	Developer          = "developer"           // an application
	Consumer           = "consumer"            // an application
)

// Scope is how far a role reaches: the whole system, one account, or one
// application inside an account.
type Scope uint8

// Scope kinds. The zero value is deliberately invalid so that a forgotten
// assignment is caught by Validate rather than silently meaning "global".
const (
	ScopeInvalid Scope = iota
	ScopeGlobal
	ScopeAccount
	ScopeApplication
)

// String returns the scope's name as stored and shown: global, account or
// application.
func (s Scope) String() string {
	switch s {
	case ScopeGlobal:
		return "global"
	case ScopeAccount:
		return "account"
	case ScopeApplication:
		return "application"
	default:
		return "invalid"
	}
}

// ParseScope is the inverse of Scope.String.
func ParseScope(s string) (Scope, error) {
	switch s {
	case "global":
		return ScopeGlobal, nil
	case "account":
		return ScopeAccount, nil
	case "application":
		return ScopeApplication, nil
	default:
		return ScopeInvalid, fmt.Errorf("unknown scope kind %q (want global, account or application)", s)
	}
}

// BuiltinScope reports the fixed scope kind of a built-in role.
func BuiltinScope(role string) (Scope, bool) {
	switch role {
	case Administrator:
		return ScopeGlobal, true
	case AccountManager:
		return ScopeAccount, true
	case ApplicationManager, Developer, Consumer:
		return ScopeApplication, true
	default:
		return ScopeInvalid, false
	}
}

// Grant is one role held by a subject, scoped to an account and/or an
// application. Account and Application are names (slugs), the same strings
// that appear in tokens and resource rules.
type Grant struct {
	Role        string `json:"role"`
	Account     string `json:"account,omitempty"`
	Application string `json:"application,omitempty"`
}

// Scope derives the grant's reach from the names it carries. Tokens from
// third-party issuers carry roles Portcullis has never heard of, so the scope
// is read from the grant itself, not from a role table.
func (g Grant) Scope() Scope {
	switch {
	case g.Account == "" && g.Application == "":
		return ScopeGlobal
	case g.Application == "":
		return ScopeAccount
	default:
		return ScopeApplication
	}
}

// Validate checks that the grant is well formed for the given scope kind:
// a global role names neither account nor application, an account role names
// only the account, an application role names both.
func (g Grant) Validate(kind Scope) error {
	if g.Role == "" {
		return errors.New("role is required")
	}
	switch kind {
	case ScopeGlobal:
		if g.Account != "" || g.Application != "" {
			return fmt.Errorf("role %q is global: it takes no account or application", g.Role)
		}
	case ScopeAccount:
		if g.Account == "" || g.Application != "" {
			return fmt.Errorf("role %q is account-scoped: it takes an account and no application", g.Role)
		}
	case ScopeApplication:
		if g.Account == "" || g.Application == "" {
			return fmt.Errorf("role %q is application-scoped: it takes an account and an application", g.Role)
		}
	default:
		return fmt.Errorf("role %q has an invalid scope kind", g.Role)
	}
	return nil
}

// String renders the grant in the compact form used by
// tokens.roles_format=compact and the gateway's "strings" format:
// ROLE, ROLE:ACCOUNT or ROLE:ACCOUNT/APPLICATION.
func (g Grant) String() string {
	switch g.Scope() {
	case ScopeGlobal:
		return g.Role
	case ScopeAccount:
		return g.Role + ":" + g.Account
	default:
		return g.Role + ":" + g.Account + "/" + g.Application
	}
}

// ParseCompact parses the compact form written by Grant.String. A bare ROLE
// is global.
func ParseCompact(s string) (Grant, error) {
	role, scope, hasScope := strings.Cut(s, ":")
	if role == "" {
		return Grant{}, fmt.Errorf("role string %q has an empty role", s)
	}
	if !hasScope {
		return Grant{Role: role}, nil
	}
	account, app, hasApp := strings.Cut(scope, "/")
	if account == "" || (hasApp && app == "") {
		return Grant{}, fmt.Errorf("role string %q: want ROLE, ROLE:ACCOUNT or ROLE:ACCOUNT/APPLICATION", s)
	}
	return Grant{Role: role, Account: account, Application: app}, nil
}

// Satisfies reports whether the grant meets a requirement for role on a
// resource that belongs to account and application (either may be empty).
//
// The rule, shared by the auth server and the gateway:
//   - administrator satisfies every requirement;
//   - account_manager of A satisfies any requirement inside account A;
//   - otherwise the grant's role must be the required role, and either the
//     grant is global, or it names the resource's account and (it is
//     account-scoped or it names the resource's application).
func (g Grant) Satisfies(role, account, application string) bool {
	if g.Role == Administrator && g.Account == "" && g.Application == "" {
		return true
	}
	if g.Role == AccountManager && g.Application == "" && g.Account != "" && g.Account == account {
		return true
	}
	if g.Role != role {
		return false
	}
	if g.Account == "" && g.Application == "" {
		return true
	}
	return account != "" && g.Account == account && (g.Application == "" || g.Application == application)
}

// Satisfied reports whether any of grants satisfies any of the required
// roles for the resource's account and application. An empty required list
// is never satisfied: a resource that needs no role should say access: token.
// It does not allocate; the gateway calls it on every request.
func Satisfied(grants []Grant, required []string, account, application string) bool {
	for i := range grants {
		for _, r := range required {
			if grants[i].Satisfies(r, account, application) {
				return true
			}
		}
	}
	return false
}
