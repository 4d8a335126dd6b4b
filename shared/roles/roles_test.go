package roles_test

import (
	"testing"

	"github.com/portcullis/portcullis/shared/roles"
)

// TestSatisfies walks the role rule of docs/gateway-decisions.md: each
// scope kind, the two roles that reach down, and the near misses.
func TestSatisfies(t *testing.T) {
	admin := roles.Grant{Role: roles.Administrator}
	acmeManager := roles.Grant{Role: roles.AccountManager, Account: "acme"}
	devBilling := roles.Grant{Role: roles.Developer, Account: "acme", Application: "billing"}
	globalAuditor := roles.Grant{Role: "auditor"}
	acmeAuditor := roles.Grant{Role: "auditor", Account: "acme"}
	tests := []struct {
		name               string
		grant              roles.Grant
		role, account, app string
		want               bool
	}{
		{"application grant on its application", devBilling, roles.Developer, "acme", "billing", true},
		{"application grant, other application", devBilling, roles.Developer, "acme", "shop", false},
		{"application grant, other account", devBilling, roles.Developer, "globex", "billing", false},
		{"application grant, other role", devBilling, roles.Consumer, "acme", "billing", false},
		{"application grant does not cover the whole account", devBilling, roles.Developer, "acme", "", false},
		{"application grant on a resource with no account", devBilling, roles.Developer, "", "", false},
		{"account grant anywhere in its account", acmeAuditor, "auditor", "acme", "billing", true},
		{"account grant on the account itself", acmeAuditor, "auditor", "acme", "", true},
		{"account grant, other account", acmeAuditor, "auditor", "globex", "billing", false},
		{"global grant everywhere", globalAuditor, "auditor", "globex", "shop", true},
		{"global grant on an unscoped resource", globalAuditor, "auditor", "", "", true},
		{"administrator satisfies any role", admin, roles.Consumer, "globex", "shop", true},
		{"administrator on an unscoped resource", admin, "anything", "", "", true},
		{"account_manager reaches down into its account", acmeManager, roles.Developer, "acme", "billing", true},
		{"account_manager satisfies account-level roles", acmeManager, "auditor", "acme", "", true},
		{"account_manager of another account", acmeManager, roles.Developer, "globex", "billing", false},
		{"account_manager does not reach unscoped resources", acmeManager, roles.Developer, "", "", false},
		{"a scoped administrator grant is not global", roles.Grant{Role: roles.Administrator, Account: "acme"}, roles.Developer, "globex", "x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.grant.Satisfies(tc.role, tc.account, tc.app); got != tc.want {
				t.Errorf("%v.Satisfies(%q, %q, %q) = %v, want %v", tc.grant, tc.role, tc.account, tc.app, got, tc.want)
			}
		})
	}
}

func TestSatisfiedNeedsOneMatch(t *testing.T) {
	grants := []roles.Grant{{Role: roles.Consumer, Account: "acme", Application: "shop"}, {Role: roles.Developer, Account: "acme", Application: "billing"}}
	if !roles.Satisfied(grants, []string{roles.Developer, roles.Consumer}, "acme", "billing") {
		t.Error("developer of acme/billing should satisfy [developer consumer] on acme/billing")
	}
	if roles.Satisfied(grants, nil, "acme", "billing") {
		t.Error("an empty requirement must never be satisfied")
	}
	if roles.Satisfied(nil, []string{roles.Developer}, "acme", "billing") {
		t.Error("no grants must not satisfy anything")
	}
	if n := testing.AllocsPerRun(100, func() { roles.Satisfied(grants, []string{roles.Consumer}, "acme", "billing") }); n != 0 {
		t.Errorf("Satisfied allocates %v times per call, want 0", n)
	}
}

func TestCompactRoundTrip(t *testing.T) {
	for _, s := range []string{"administrator", "account_manager:acme", "developer:acme/billing"} {
		g, err := roles.ParseCompact(s)
		if err != nil {
			t.Fatalf("ParseCompact(%q): %v", s, err)
		}
		if g.String() != s {
			t.Errorf("ParseCompact(%q).String() = %q", s, g.String())
		}
	}
	for _, bad := range []string{"", ":acme", "dev:", "dev:/billing", "dev:acme/"} {
		if _, err := roles.ParseCompact(bad); err == nil {
			t.Errorf("ParseCompact(%q) succeeded, want an error", bad)
		}
	}
}

func TestValidateScope(t *testing.T) {
	tests := []struct {
		grant roles.Grant
		kind  roles.Scope
		ok    bool
	}{
		{roles.Grant{Role: "administrator"}, roles.ScopeGlobal, true},
		{roles.Grant{Role: "administrator", Account: "acme"}, roles.ScopeGlobal, false},
		{roles.Grant{Role: "account_manager", Account: "acme"}, roles.ScopeAccount, true},
		{roles.Grant{Role: "account_manager", Account: "acme", Application: "x"}, roles.ScopeAccount, false},
		{roles.Grant{Role: "developer", Account: "acme", Application: "x"}, roles.ScopeApplication, true},
		{roles.Grant{Role: "developer", Account: "acme"}, roles.ScopeApplication, false},
		{roles.Grant{Role: "developer", Account: "acme", Application: "x"}, roles.ScopeInvalid, false},
	}
	for _, tc := range tests {
		if err := tc.grant.Validate(tc.kind); (err == nil) != tc.ok {
			t.Errorf("%v.Validate(%v) = %v, want ok=%v", tc.grant, tc.kind, err, tc.ok)
		}
	}
}
