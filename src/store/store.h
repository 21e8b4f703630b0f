/*
 * The one way to Tessera's data. Two backends sit behind it, SQLite (the
 * embedded default) and PostgreSQL (shared by many stateless nodes); both
 * pass the same contract suite (tests/unit/test_store.c).
 *
 * A ts_store_t is the shared, thread-safe handle; each thread that talks to
 * the store opens its own ts_store_conn_t. Every write runs inside one
 * transaction (ts_store_begin ... ts_store_commit) together with its audit
 * event, so an acknowledged write and its record land together or not at all.
 * Strings handed back live in the arena the caller passes in.
 *
 * This header only gathers the store's interface, one header per concern:
 * conn.h (open, connect, schema, transactions, retries), accounts.h,
 * keys.h (admin and SCIM API keys), audit.h, directory.h (users, groups,
 * memberships, licence groups), domains.h, sessions.h, nodes.h, secrets.h
 * (values sealed with the master key), saml.h (SAML identity sources, SP keys,
 * AuthnRequests, the replay cache), signins.h (sign-in attempts) and access.h
 * (targets, permission sets, assignments).
 */
#ifndef TS_STORE_STORE_H
#define TS_STORE_STORE_H

#include "store/conn.h"

#include "store/access.h"
#include "store/accounts.h"
#include "store/audit.h"
#include "store/directory.h"
#include "store/domains.h"
#include "store/keys.h"
#include "store/nodes.h"
#include "store/oauth.h"
#include "store/saml.h"
#include "store/secrets.h"
#include "store/sessions.h"
#include "store/signins.h"

#endif
