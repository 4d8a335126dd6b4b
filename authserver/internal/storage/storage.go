package storage

import (
	"context"
	"errors"
	"time"

	"github.com/portcullis/portcullis/shared/roles"
)

// Sentinel errors every backend maps its driver errors to. Callers test with
// errors.Is; the error text carries the detail.
var (
	// ErrNotFound: the object (or one it refers to, such as the account of a
	// new application) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a uniqueness rule was violated (duplicate name,
	// username, grant, client id).
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the request breaks a model rule that is not a uniqueness
	// rule, e.g. a grant whose scope does not match its role's kind.
	ErrInvalid = errors.New("invalid")
)

// Account is a tenant.
type Account struct {
	ID          string
	Name        string // slug, unique
	DisplayName string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Application belongs to one account; its name is unique within it.
type Application struct {
	ID          string
	Account     string // account name
	Name        string
	DisplayName string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Role is a named role with a fixed scope kind. The five built-in roles are
// seeded by migration and cannot be deleted.
type Role struct {
	Name        string
	Scope       roles.Scope
	Description string
	Builtin     bool
	CreatedAt   time.Time
}

// User is a person who logs in. ID is opaque and stable: it is the token's
// "sub". Username is unique case-insensitively.
type User struct {
	ID           string
	Username     string
	Email        string
	PasswordHash string // PHC string (argon2id) or an imported bcrypt hash
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Grant gives a role to a user or to a client (exactly one of UserID and
// ClientID is set), scoped by account and application names as the role's
// kind requires.
type Grant struct {
	ID       string
	UserID   string
	ClientID string
	roles.Grant
	CreatedAt time.Time
}

// Client is an OAuth2 client. SecretHash is empty for a public client.
type Client struct {
	ID           string // client_id
	SecretHash   string
	Public       bool
	Name         string
	GrantTypes   []string
	RedirectURIs []string
	Scopes       []string
	Account      string // owning account name, optional
	Application  string // owning application name within Account, optional
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// SigningKey is one key of the auth server's rotation. PrivateKey is stored
// encrypted (see internal/signer); PublicJWK is the public half as a JWK.
// A key is "next" before ActivatesAt, "active" from then until a newer key
// activates, and "retired" after, staying published until ExpiresAt (the
// moment the last token it signed has expired), after which it can be
// deleted.
type SigningKey struct {
	ID          string // kid
	Algorithm   string // RS256, ES256, EdDSA
	PrivateKey  []byte
	PublicJWK   []byte
	CreatedAt   time.Time
	ActivatesAt time.Time
	RetiredAt   *time.Time
	ExpiresAt   *time.Time
}

// RefreshToken is stored by hash only. Tokens of one login form a family:
// each use rotates to a new token of the same family, and reuse of a spent
// token revokes the whole family (RFC 9700 4.14).
type RefreshToken struct {
	ID        string
	TokenHash string // hex SHA-256 of the opaque token
	FamilyID  string
	ParentID  string // the token this one replaced, empty for the first
	UserID    string
	ClientID  string
	Scope     string
	Account   string // the account= narrowing of the original request, if any
	AuthTime  time.Time
	IssuedAt  time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time // set when rotated
	RevokedAt *time.Time
}

// AuditRecord is one change made through the admin API or the CLI, written
// in the same transaction as the change.
type AuditRecord struct {
	ID        int64
	At        time.Time
	Actor     string // user id, client id or "cli"
	Action    string // e.g. "user.create", "grant.delete"
	Target    string // object id or name
	Before    []byte // JSON, nil for creations
	After     []byte // JSON, nil for deletions
	RequestID string
}

// RevocationEvent is one entry of the revocation feed consumed by gateways.
// Kind "jti" revokes one access token until ExpiresAt; kind "sub" refuses
// every token of Subject (optionally only those of ClientID) issued before
// NotBefore.
type RevocationEvent struct {
	Seq       int64
	Kind      string // "jti" or "sub"
	JTI       string
	Subject   string
	ClientID  string
	NotBefore time.Time
	ExpiresAt time.Time // the event is moot after this
	CreatedAt time.Time
}

// Page asks for at most Limit items after Cursor (an opaque value from a
// previous page's NextCursor; empty for the first page).
type Page struct {
	Limit  int
	Cursor string
}

// UserFilter narrows ListUsers. Empty fields match everything. Username
// matches a case-insensitive prefix. Account and Application select users
// holding at least one grant in that scope.
type UserFilter struct {
	Username    string
	Account     string
	Application string
}

// GrantFilter narrows ListGrants. Empty fields match everything.
type GrantFilter struct {
	UserID      string
	ClientID    string
	Role        string
	Account     string
	Application string
}

// ClientFilter narrows ListClients.
type ClientFilter struct {
	Account     string
	Application string
}

// Store is the auth server's persistence. Implementations are safe for
// concurrent use. List methods return items in a stable order and a
// non-empty next cursor when more items follow.
type Store interface {
	// Accounts.
	CreateAccount(ctx context.Context, a *Account) error // fills ID and timestamps
	GetAccount(ctx context.Context, name string) (*Account, error)
	ListAccounts(ctx context.Context, p Page) ([]Account, string, error)
	UpdateAccount(ctx context.Context, name string, update func(*Account) error) (*Account, error)
	DeleteAccount(ctx context.Context, name string) error // cascades to applications, grants

	// Applications.
	CreateApplication(ctx context.Context, a *Application) error
	GetApplication(ctx context.Context, account, name string) (*Application, error)
	ListApplications(ctx context.Context, account string, p Page) ([]Application, string, error)
	UpdateApplication(ctx context.Context, account, name string, update func(*Application) error) (*Application, error)
	DeleteApplication(ctx context.Context, account, name string) error // cascades to grants

	// Roles.
	CreateRole(ctx context.Context, r *Role) error
	GetRole(ctx context.Context, name string) (*Role, error)
	ListRoles(ctx context.Context) ([]Role, error)
	DeleteRole(ctx context.Context, name string) error // built-in roles: ErrInvalid

	// Users.
	CreateUser(ctx context.Context, u *User) error // fills ID if empty, and timestamps
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByUsername(ctx context.Context, username string) (*User, error) // case-insensitive
	ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, string, error)
	UpdateUser(ctx context.Context, id string, update func(*User) error) (*User, error)
	DeleteUser(ctx context.Context, id string) error // cascades to grants, refresh tokens

	// Grants. CreateGrant checks the scope against the role's kind
	// (ErrInvalid), that the account/application exist (ErrNotFound) and
	// refuses duplicates (ErrAlreadyExists).
	CreateGrant(ctx context.Context, g *Grant) error
	GetGrant(ctx context.Context, id string) (*Grant, error)
	ListGrants(ctx context.Context, f GrantFilter, p Page) ([]Grant, string, error)
	DeleteGrant(ctx context.Context, id string) error
	// RoleGrantsOfUser / RoleGrantsOfClient return just the role grants, in a
	// stable order, for building a token. They are on the token hot path.
	RoleGrantsOfUser(ctx context.Context, userID string) ([]roles.Grant, error)
	RoleGrantsOfClient(ctx context.Context, clientID string) ([]roles.Grant, error)
	// CountActiveAdministrators counts active users holding administrator.
	CountActiveAdministrators(ctx context.Context) (int, error)

	// Clients.
	CreateClient(ctx context.Context, c *Client) error
	GetClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context, f ClientFilter, p Page) ([]Client, string, error)
	UpdateClient(ctx context.Context, id string, update func(*Client) error) (*Client, error)
	DeleteClient(ctx context.Context, id string) error // cascades to grants, refresh tokens

	// Signing keys.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context) ([]SigningKey, error) // by ActivatesAt ascending
	UpdateSigningKey(ctx context.Context, id string, update func(*SigningKey) error) (*SigningKey, error)
	DeleteSigningKey(ctx context.Context, id string) error

	// Refresh tokens.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	GetRefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	// MarkRefreshTokenUsed sets UsedAt if it is still nil and reports whether
	// this call was the one that set it, so two racing refreshes cannot both
	// win.
	MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) (bool, error)
	// RevokeRefreshFamily revokes every token of the family; it returns the
	// number of tokens changed.
	RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) (int, error)
	// RevokeRefreshTokensOfUser revokes every refresh token of the user
	// (of one client when clientID is not empty).
	RevokeRefreshTokensOfUser(ctx context.Context, userID, clientID string, at time.Time) (int, error)
	DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int, error)

	// Revocation events, for the gateways' feed.
	AppendRevocationEvent(ctx context.Context, e *RevocationEvent) error // fills Seq
	ListRevocationEvents(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]RevocationEvent, error)
	DeleteExpiredRevocationEvents(ctx context.Context, before time.Time) (int, error)

	// Audit log.
	ListAudit(ctx context.Context, p Page) ([]AuditRecord, string, error)

	// InTx runs fn with a Store whose writes all commit together or not at
	// all (and an AuditRecord appended through Audit joins the same
	// transaction). Nested InTx calls reuse the outer transaction.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// AppendAudit writes an audit record (use it inside InTx).
	AppendAudit(ctx context.Context, r *AuditRecord) error

	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}
