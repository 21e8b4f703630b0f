/*
 * Users as the administration sees them (the Chime guide's "View User Details"),
 * the licence a user holds, personal meeting PINs, and the admin actions on
 * users: invitations and removal on Team accounts, suspension on Enterprise
 * accounts, licences by hand where the directory does not decide them,
 * sign-out everywhere. No HTTP here; callers own the transaction.
 */
#ifndef TS_DIRECTORY_USER_H
#define TS_DIRECTORY_USER_H

#include "directory/signin.h"
#include "store/store.h"

#define TS_USER_PIN_DIGITS 10         /* the Chime guide's example PIN 0123456789 */
#define TS_USER_PIN_TRIES 8           /* fresh PINs drawn before giving up */
#define TS_USER_INVITE_MAX 50         /* addresses per InviteUsers call (Chime's limit) */
#define TS_USER_BATCH_MAX 50          /* user IDs per SuspendUsers / ActivateUsers call */
#define TS_USER_EMAIL_MAX 254         /* RFC 5321 §4.5.3.1.3 path limit less the brackets */
#define TS_USER_LOCAL_MAX 64          /* RFC 5321 §4.5.3.1.1 */
#define TS_USER_DEFAULT_LICENSE "Pro" /* the Chime guide: "Set to Pro by default" */

/* Registration statuses (the Chime guide, View User Details). */
#define TS_USER_REGISTERED "Registered"
#define TS_USER_UNREGISTERED "Unregistered"
#define TS_USER_SUSPENDED "Suspended"
#define TS_USER_RELEASED "Released"

/*
 * The tier a user's directory groups give: Pro when any mapped group is
 * Pro, else Basic when any is Basic, else TS_LICENSE_NONE (docs/product.md §4 rule 5).
 */
enum ts_license ts_directory_license_of_groups(const struct ts_dir_user_group *groups, int n);
/* "Pro" -> TS_LICENSE_PRO, "Basic" -> TS_LICENSE_BASIC, anything else -> TS_LICENSE_NONE. */
enum ts_license ts_directory_license_parse(const char *name);

/*
 * Whether an account's directory is managed by an IdP (docs/product.md §4: it has an
 * identity source or a SCIM API key); licences then come from directory
 * groups and cannot be set by hand.
 */
TS_MUST_USE ts_err ts_directory_account_managed(ts_store_conn_t *c, const char *account_id,
                                                bool *managed, struct ts_error *e);
/* The same rule, from counts the caller read: SCIM API keys and SAML identity sources. */
bool ts_directory_managed_by(int64_t api_keys, int64_t saml_sources);

/* The licence a user holds now: from groups when managed, else the one set by hand. */
TS_MUST_USE ts_err ts_directory_user_license(ts_store_conn_t *c, ts_arena_t *a,
                                             const struct ts_user_row *u, bool managed,
                                             enum ts_license *out, struct ts_error *e);

/* Invitation statuses of a Team account's invited user (Amazon Chime guide, "View User Details").
 */
#define TS_USER_INVITE_PENDING "Pending"
#define TS_USER_INVITE_ACCEPTED "Accepted"

/* A user as the administration sees them (Amazon Chime guide, "View User Details"); arena memory.
 */
struct ts_user_view {
	const struct ts_user_row *user;
	const char *primary_email;       /* the primary address, else the first; may be NULL */
	const char *const *proxy_emails; /* the other addresses */
	size_t n_proxy_emails;
	const struct ts_dir_user_group *groups; /* directory groups, with their mapped tier */
	size_t n_groups;
	enum ts_license license;         /* the licence held now (TS_LICENSE_NONE: none) */
	bool from_groups;                /* the licence comes from directory groups (managed) */
	const char *registration_status; /* never NULL */
	const char *invitation; /* TS_USER_INVITE_*, or NULL (not invited, or Enterprise) */
	int64_t live_sessions;
};

/* Loads the view of user u of account acct (managed: ts_directory_account_managed). */
TS_MUST_USE ts_err ts_directory_user_view(ts_store_conn_t *c, ts_arena_t *a,
                                          const struct ts_account *acct,
                                          const struct ts_user_row *u, bool managed,
                                          struct ts_user_view *out, struct ts_error *e);

/* A fresh random PIN of TS_USER_PIN_DIGITS digits into out. */
void ts_directory_pin_random(char out[TS_USER_PIN_DIGITS + 1]);
/* A PIN no user holds, drawn at random; TS_ERR_CONFLICT after TS_USER_PIN_TRIES collisions. */
TS_MUST_USE ts_err ts_directory_pin_new(ts_store_conn_t *c, char out[TS_USER_PIN_DIGITS + 1],
                                        struct ts_error *e);

/*
 * Registers a user at their first successful sign-in (docs/product.md §4, the
 * Chime guide: "A personal meeting PIN is a static ID generated when the user
 * registers"), in the caller's write transaction: an Unregistered user
 * becomes Registered with joined_ms (RegisteredOn) now_ms and a personal PIN
 * unless they hold one. Later sign-ins change nothing. *registered says
 * whether this call registered them. A PIN taken meanwhile by another user is
 * TS_ERR_RETRY: the caller runs its transaction again (ts_store_tx_retry),
 * which draws another.
 */
TS_MUST_USE ts_err ts_directory_user_register(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *user_id, int64_t now_ms, bool *registered,
                                              struct ts_error *e);

/*
 * Checks an email address for an invitation: local@domain, at most
 * TS_USER_EMAIL_MAX bytes, a local part of at most TS_USER_LOCAL_MAX printable
 * ASCII characters without spaces, quotes or angle brackets, and a valid
 * domain name (ts_directory_domain_check). *domain points at the domain part.
 */
TS_MUST_USE ts_err ts_directory_email_check(const char *address, const char **domain,
                                            struct ts_error *e);
/* ASCII lowercase copy in the arena (the *_key columns). */
char *ts_directory_key(ts_arena_t *a, const char *s);

/* One invitation made; no email is sent (Tessera has no mailer). */
struct ts_user_invite {
	const char *user_id; /* also the invitation's ID */
	const char *email;
};

/*
 * Invites addresses into a Team account (see InviteUsers): each becomes an
 * Unregistered user with the default licence and a PIN. *invites (arena
 * memory) receives the n invitations, in the order of addresses.
 */
TS_MUST_USE ts_err ts_directory_users_invite(ts_store_conn_t *c, ts_arena_t *a,
                                             const struct ts_account *acct,
                                             const char *const *addresses, int n,
                                             struct ts_user_invite **invites, struct ts_error *e);
/*
 * Suspends (suspend true) or activates one user of an Enterprise account;
 * suspension signs the user out everywhere. TS_ERR_NOT_FOUND or
 * TS_ERR_BAD_REQUEST describe why one user could not be changed.
 */
TS_MUST_USE ts_err ts_directory_user_suspend(ts_store_conn_t *c, ts_arena_t *a,
                                             const char *account_id, const char *user_id,
                                             bool suspend, struct ts_error *e);

#endif
