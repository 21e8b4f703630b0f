/*
 * The sealed secrets table and what rotating the master key rewrites
 * (store/secrets.h, docs/secrets.md).
 */
#include "store/secrets.h"

#include <string.h>

#include "store/internal.h"

#define META_KEY_CHECK "master_key_check" /* as store/audit.c */
#define REKEY_PAGE 500                    /* rows read per query while rotating */

/* A text parameter from a buffer (TS__TEXT would test an array's address). */
static struct ts__param text_param(const char *s)
{
	return TS__TEXT(s);
}

static bool name_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= TS_STORE_SECRET_NAME_MAX;
}

static void read_secret(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_secret *s = out;
	s->owner_kind = ts__rows_str(c, r, 0, a);
	s->owner_id = ts__rows_str(c, r, 1, a);
	s->name = ts__rows_str(c, r, 2, a);
	s->key_id = ts__rows_str(c, r, 3, a);
	s->sealed = ts__rows_str(c, r, 4, a);
	s->created_ms = ts__rows_int(c, r, 5);
	s->updated_ms = ts__rows_int(c, r, 6);
}

/* Runs one write in c's transaction, or in a transaction of its own. */
static ts_err write_one(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                        int np, int64_t *changed, struct ts_error *e)
{
	if (c->in_tx)
		return ts__store_write(c, q, p, np, changed, e);
	ts_err rc = ts_store_begin(c, true, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, q, p, np, changed, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

ts_err ts_store_secret_put(ts_store_conn_t *c, const struct ts_store_secret *s, struct ts_error *e)
{
	if (!name_ok(s->owner_kind) || !name_ok(s->owner_id) || !name_ok(s->name))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a secret's owner kind, owner id and name are 1 to %d bytes",
		               TS_STORE_SECRET_NAME_MAX);
	struct ts__param p[] = {TS__TEXT(s->owner_kind), TS__TEXT(s->owner_id),
	                        TS__TEXT(s->name),       TS__TEXT(s->key_id),
	                        TS__TEXT(s->sealed),     TS__INT(s->updated_ms)};
	return write_one(c, TS__Q_SECRET_PUT, p, 6, NULL, e);
}

ts_err ts_store_secret_seal_put(ts_store_conn_t *c, ts_arena_t *arena,
                                const struct ts_secret_key *k, const char *kind, const char *owner,
                                const char *name, const unsigned char *plain, size_t n,
                                int64_t now_ms, struct ts_error *e)
{
	if (n > TS_STORE_SECRET_PLAIN_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a secret is at most %d bytes",
		               TS_STORE_SECRET_PLAIN_MAX);
	const struct ts_secret_place at = {kind, owner, name};
	struct ts_store_secret s = {.owner_kind = kind,
	                            .owner_id = owner,
	                            .name = name,
	                            .key_id = k->id,
	                            .sealed = ts_secret_seal_at(arena, k, &at, plain, n),
	                            .created_ms = now_ms,
	                            .updated_ms = now_ms};
	return ts_store_secret_put(c, &s, e);
}

ts_err ts_store_secret_get(ts_store_conn_t *c, ts_arena_t *arena, const char *kind,
                           const char *owner, const char *name, struct ts_store_secret *out,
                           bool *found, struct ts_error *e)
{
	*out = (struct ts_store_secret){0};
	struct ts__param p[] = {TS__TEXT(kind), TS__TEXT(owner), TS__TEXT(name)};
	return ts__store_get_one(c, TS__Q_SECRET_GET, p, 3, read_secret, arena, out, found, e);
}

ts_err ts_store_secret_open_get(ts_store_conn_t *c, ts_arena_t *arena,
                                const struct ts_secret_key *k, const char *kind, const char *owner,
                                const char *name, unsigned char **plain, size_t *n, bool *found,
                                struct ts_error *e)
{
	*plain = NULL;
	*n = 0;
	struct ts_store_secret s;
	ts_err rc = ts_store_secret_get(c, arena, kind, owner, name, &s, found, e);
	if (rc != TS_ERR_OK || !*found)
		return rc;
	const struct ts_secret_place at = {kind, owner, name};
	return ts_secret_open_at(arena, k, &at, s.sealed, plain, n, e);
}

ts_err ts_store_secret_delete(ts_store_conn_t *c, const char *kind, const char *owner,
                              const char *name, bool *deleted, struct ts_error *e)
{
	int64_t changed = 0;
	struct ts__param p[] = {TS__TEXT(kind), TS__TEXT(owner), TS__TEXT(name)};
	ts_err rc = write_one(c, TS__Q_SECRET_DELETE, p, 3, &changed, e);
	if (deleted != NULL)
		*deleted = rc == TS_ERR_OK && changed > 0;
	return rc;
}

ts_err ts_store_secret_delete_owner(ts_store_conn_t *c, const char *kind, const char *owner,
                                    struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(kind), TS__TEXT(owner)};
	return write_one(c, TS__Q_SECRET_DELETE_OWNER, p, 2, NULL, e);
}

ts_err ts_store_secret_list(ts_store_conn_t *c, ts_arena_t *arena,
                            const struct ts_store_secret *after, int limit,
                            struct ts_store_secret **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	/* "" sorts before every name, and names are never empty */
	struct ts__param p[] = {TS__TEXT(after ? after->owner_kind : ""),
	                        TS__TEXT(after ? after->owner_id : ""),
	                        TS__TEXT(after ? after->name : ""), TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SECRET_LIST, p, 4, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_store_secret *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	while (*n < limit && ts__rows_next(c, r))
		read_secret(c, r, arena, &list[(*n)++]);
	ts__rows_close(c, &r);
	*out = list;
	return TS_ERR_OK;
}

ts_err ts_store_secret_count_not_under(ts_store_conn_t *c, const char *key_id, int64_t *count,
                                       struct ts_error *e)
{
	*count = 0;
	struct ts__param p[] = {TS__TEXT(key_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SECRET_COUNT_NOT_KEY, p, 1, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*count = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts_store_secret_reseal_all(ts_store_conn_t *c, const struct ts_secret_key *old_key,
                                  const struct ts_secret_key *new_key, int64_t now_ms,
                                  int64_t *count, struct ts_error *e)
{
	*count = 0;
	if (!c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "re-sealing outside a transaction");
	ts_arena_t *keep = ts_arena_new(); /* the last row of a page, for the next */
	struct ts_store_secret last = {0};
	ts_err rc = TS_ERR_OK;
	for (;;) {
		ts_arena_t *page = ts_arena_new();
		struct ts_store_secret *rows = NULL;
		int n = 0;
		rc = ts_store_secret_list(c, page, *count > 0 ? &last : NULL, REKEY_PAGE, &rows, &n,
		                          e);
		for (int i = 0; rc == TS_ERR_OK && i < n; i++) {
			const struct ts_secret_place at = {rows[i].owner_kind, rows[i].owner_id,
			                                   rows[i].name};
			unsigned char *plain = NULL;
			size_t len = 0;
			struct ts_error why = {0};
			if (ts_secret_open_at(page, old_key, &at, rows[i].sealed, &plain, &len,
			                      &why) != TS_ERR_OK) {
				rc = TS_FAIL(e, TS_ERR_CONFLICT, "secret %s/%s/%s: %s",
				             rows[i].owner_kind, rows[i].owner_id, rows[i].name,
				             why.message);
				break;
			}
			struct ts_store_secret s = rows[i];
			s.key_id = new_key->id;
			s.sealed = ts_secret_seal_at(page, new_key, &at, plain, len);
			s.updated_ms = now_ms;
			rc = ts_store_secret_put(c, &s, e);
			(*count)++;
		}
		if (rc == TS_ERR_OK && n > 0) {
			last.owner_kind = ts_arena_printf(keep, "%s", rows[n - 1].owner_kind);
			last.owner_id = ts_arena_printf(keep, "%s", rows[n - 1].owner_id);
			last.name = ts_arena_printf(keep, "%s", rows[n - 1].name);
		}
		ts_arena_free(&page); /* wipes what was opened */
		if (rc != TS_ERR_OK || n < REKEY_PAGE)
			break;
	}
	ts_arena_free(&keep);
	return rc;
}

/* ---- the audit trail under a new key ---- */

ts_err ts_store_audit_seal_lock(ts_store_conn_t *c, bool *got, struct ts_error *e)
{
	*got = false;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_AUDIT_SEAL_LOCK, NULL, 0, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*got = ts__rows_int(c, r, 0) != 0;
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

void ts_store_audit_seal_unlock(ts_store_conn_t *c)
{
	struct ts__rows *r = NULL;
	struct ts_error quiet = {0};
	if (ts__store_exec(c, TS__Q_AUDIT_SEAL_UNLOCK, NULL, 0, &r, &quiet) == TS_ERR_OK)
		ts__rows_close(c, &r);
}

ts_err ts_store_rotation_live_nodes(ts_store_conn_t *c, int64_t since_ms, int64_t *live,
                                    struct ts_error *e)
{
	*live = 0;
	struct ts__param p[] = {TS__INT(since_ms)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_NODE_LIVE, p, 1, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*live = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

bool ts_store_audit_key_stale(ts_store_t *s)
{
	return atomic_load(&s->audit_stale);
}

static void read_text(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	*(const char **)out = ts__rows_str(c, r, 0, a);
}

ts_err ts_store_key_check_get(ts_store_conn_t *c, ts_arena_t *arena, const char **check,
                              bool *found, struct ts_error *e)
{
	*check = NULL;
	struct ts__param p[] = {TS__TEXT(META_KEY_CHECK)};
	return ts__store_get_one(c, TS__Q_META_GET, p, 1, read_text, arena, check, found, e);
}

/* Every checkpoint, in order (a few thousand per million events: one per sealing round). */
static ts_err all_checkpoints(ts_store_conn_t *c, ts_arena_t *a, struct ts_audit_checkpoint **out,
                              int64_t *n, struct ts_error *e)
{
	size_t cap = REKEY_PAGE, count = 0;
	int64_t after = -1;
	struct ts_audit_checkpoint *all = ts_arena_alloc(a, sizeof *all * cap);
	for (;;) {
		struct ts_audit_checkpoint *page = NULL;
		int got = 0;
		ts_err rc = ts_store_audit_checkpoints(c, a, after, REKEY_PAGE, &page, &got, e);
		if (rc != TS_ERR_OK)
			return rc;
		rc = ts_arena_grow(a, (void *)&all, sizeof *all, count, count + (size_t)got, &cap,
		                   TS__STORE_ROWS_MAX);
		if (rc != TS_ERR_OK)
			return TS_FAIL(e, rc, "more checkpoints than a rotation can hold");
		memcpy(all + count, page, sizeof *page * (size_t)got);
		count += (size_t)got;
		if (got < REKEY_PAGE)
			break;
		after = page[got - 1].chain_seq;
	}
	*out = all;
	*n = (int64_t)count;
	return TS_ERR_OK;
}

struct rekey {
	ts_store_conn_t *c;
	const struct ts_audit_keys *old_keys, *new_keys;
	struct ts_audit_checkpoint *cps;
	int64_t ncps, next_cp;
	char old_prev_mac[TS_AUDIT_MAC_HEX_LEN + 1];
	char new_prev_mac[TS_AUDIT_MAC_HEX_LEN + 1];
	struct ts_store_rekey_result *out;
};

/* Checks the next checkpoint (at chain place `place`, old link old_hash) and re-MACs it. */
static ts_err rekey_checkpoint(struct rekey *k, int64_t place, const char *old_hash,
                               const char *new_hash, struct ts_error *e)
{
	const struct ts_audit_checkpoint *cp = &k->cps[k->next_cp];
	if (strcmp(cp->hash, old_hash) != 0 ||
	    !ts_audit_checkpoint_mac_ok(k->old_keys, cp->chain_seq, cp->hash, cp->time_ms,
	                                k->old_prev_mac, cp->mac))
		return TS_FAIL(e, TS_ERR_CONFLICT,
		               "the checkpoint at chain place %lld does not verify under the old "
		               "key: the trail is broken (run tessera audit verify); nothing was "
		               "rotated",
		               (long long)place);
	char mac[TS_AUDIT_MAC_HEX_LEN + 1];
	ts_audit_checkpoint_mac(k->new_keys, cp->chain_seq, new_hash, cp->time_ms, k->new_prev_mac,
	                        mac);
	struct ts__param p[] = {TS__INT(cp->chain_seq), text_param(new_hash), text_param(mac)};
	ts_err rc = ts__store_write(k->c, TS__Q_REKEY_CHECKPOINT_SET, p, 3, NULL, e);
	memcpy(k->old_prev_mac, cp->mac, sizeof k->old_prev_mac);
	k->old_prev_mac[TS_AUDIT_MAC_HEX_LEN] = '\0';
	memcpy(k->new_prev_mac, mac, sizeof mac);
	k->out->checkpoints++;
	k->out->last_chain_seq = place;
	memcpy(k->out->last_old_hash, old_hash, TS_SHA256_HEX_LEN + 1);
	memcpy(k->out->last_new_hash, new_hash, TS_SHA256_HEX_LEN + 1);
	k->next_cp++;
	return rc;
}

/* The chain in order: each event's MAC and link checked under old, rewritten under new. */
static ts_err rekey_chain(struct rekey *k, ts_arena_t *arena, struct ts_error *e)
{
	char old_prev[TS_SHA256_HEX_LEN + 1] = TS_AUDIT_GENESIS_HASH;
	char new_prev[TS_SHA256_HEX_LEN + 1] = TS_AUDIT_GENESIS_HASH;
	if (k->ncps == 0 || k->cps[0].chain_seq != 0)
		return TS_FAIL(
		        e, TS_ERR_CONFLICT,
		        "the audit trail has no genesis checkpoint: it is broken (run tessera "
		        "audit verify); nothing was rotated");
	ts_err rc = rekey_checkpoint(k, 0, old_prev, new_prev, e);
	int64_t upto = 0, place = 0;
	if (rc == TS_ERR_OK)
		rc = ts_store_audit_chain_max(k->c, &upto, e);
	while (rc == TS_ERR_OK && place < upto) {
		ts_arena_t *page = ts_arena_new();
		struct ts_audit_record *evs = NULL;
		int n = 0;
		rc = ts_store_audit_chain_walk(k->c, page, place, upto, REKEY_PAGE, &evs, &n, e);
		if (rc == TS_ERR_OK && n == 0)
			rc = TS_FAIL(e, TS_ERR_CONFLICT, "the audit chain ends early");
		for (int i = 0; rc == TS_ERR_OK && i < n; i++) {
			const struct ts_audit_record *ev = &evs[i];
			char old_link[TS_SHA256_HEX_LEN + 1], new_link[TS_SHA256_HEX_LEN + 1];
			char mac[TS_AUDIT_MAC_HEX_LEN + 1];
			struct ts_audit_fields f;
			ts_store_audit_fields(ev, &f);
			if (ev->chain_seq != place + 1 || ev->event_id == NULL ||
			    !ts_audit_event_mac_ok(k->old_keys, &f, ev->mac)) {
				rc = TS_FAIL(
				        e, TS_ERR_CONFLICT,
				        "the event at chain place %lld does not verify under the "
				        "old key: the trail is broken (run tessera audit verify); "
				        "nothing was rotated",
				        (long long)(place + 1));
				break;
			}
			ts_audit_link(old_prev, ev->seq, ev->mac, old_link);
			if (ev->hash == NULL || strcmp(old_link, ev->hash) != 0) {
				rc = TS_FAIL(
				        e, TS_ERR_CONFLICT,
				        "the link at chain place %lld does not follow: the trail "
				        "is broken (run tessera audit verify); nothing was rotated",
				        (long long)ev->chain_seq);
				break;
			}
			ts_audit_event_mac(k->new_keys, &f, mac);
			ts_audit_link(new_prev, ev->seq, mac, new_link);
			struct ts__param pm[] = {TS__INT(ev->seq), text_param(mac)};
			struct ts__param pl[] = {TS__INT(ev->chain_seq), text_param(new_link)};
			rc = ts__store_write(k->c, TS__Q_AUDIT_SET_MAC, pm, 2, NULL, e);
			if (rc == TS_ERR_OK)
				rc = ts__store_write(k->c, TS__Q_REKEY_CHAIN_SET, pl, 2, NULL, e);
			memcpy(old_prev, old_link, sizeof old_prev);
			memcpy(new_prev, new_link, sizeof new_prev);
			place = ev->chain_seq;
			k->out->events++;
			if (rc == TS_ERR_OK && k->next_cp < k->ncps &&
			    k->cps[k->next_cp].chain_seq == place)
				rc = rekey_checkpoint(k, place, old_prev, new_prev, e);
		}
		ts_arena_free(&page);
	}
	(void)arena;
	if (rc == TS_ERR_OK && k->next_cp < k->ncps)
		rc = TS_FAIL(
		        e, TS_ERR_CONFLICT,
		        "the checkpoint at chain place %lld is past the chain's end: the trail "
		        "is broken (run tessera audit verify); nothing was rotated",
		        (long long)k->cps[k->next_cp].chain_seq);
	if (rc == TS_ERR_OK && k->out->last_chain_seq != place)
		rc = TS_FAIL(e, TS_ERR_CONFLICT,
		             "chain places after %lld are covered by no checkpoint: the trail is "
		             "broken (run tessera audit verify); nothing was rotated",
		             (long long)k->out->last_chain_seq);
	return rc;
}

/* Pending events: a MAC that verifies under old is recomputed under new; any other fails. */
static ts_err rekey_pending(struct rekey *k, struct ts_error *e)
{
	int64_t after = 0;
	ts_err rc = TS_ERR_OK;
	for (;;) {
		ts_arena_t *page = ts_arena_new();
		struct ts__param p[] = {TS__INT(after), TS__INT(REKEY_PAGE)};
		struct ts__rows *r = NULL;
		struct ts_audit_record *evs = ts_arena_alloc(page, sizeof *evs * REKEY_PAGE);
		int n = 0;
		rc = ts__store_exec(k->c, TS__Q_REKEY_PENDING, p, 2, &r, e);
		if (rc == TS_ERR_OK) {
			while (n < REKEY_PAGE && ts__rows_next(k->c, r)) {
				struct ts_audit_record *ev = &evs[n++];
				*ev = (struct ts_audit_record){0};
				ev->seq = ts__rows_int(k->c, r, 0);
				ev->event_id = ts__rows_str(k->c, r, 1, page);
				ev->event_time_ms = ts__rows_int(k->c, r, 2);
				ev->event_name = ts__rows_str(k->c, r, 3, page);
				ev->account_id = ts__rows_str(k->c, r, 4, page);
				ev->body = ts__rows_str(k->c, r, 5, page);
				ev->mac = ts__rows_str(k->c, r, 6, page);
			}
			ts__rows_close(k->c, &r);
		}
		for (int i = 0; rc == TS_ERR_OK && i < n; i++) {
			struct ts_audit_fields f;
			ts_store_audit_fields(&evs[i], &f);
			after = evs[i].seq;
			if (evs[i].event_id == NULL ||
			    !ts_audit_event_mac_ok(k->old_keys, &f, evs[i].mac)) {
				rc = TS_FAIL(e, TS_ERR_CONFLICT,
				             "the pending event %lld does not verify under the old "
				             "key: the trail is broken (run tessera audit verify); "
				             "nothing was rotated",
				             (long long)evs[i].seq);
				break;
			}
			char mac[TS_AUDIT_MAC_HEX_LEN + 1];
			ts_audit_event_mac(k->new_keys, &f, mac);
			struct ts__param pm[] = {TS__INT(evs[i].seq), text_param(mac)};
			rc = ts__store_write(k->c, TS__Q_AUDIT_SET_MAC, pm, 2, NULL, e);
			k->out->pending++;
		}
		ts_arena_free(&page);
		if (rc != TS_ERR_OK || n < REKEY_PAGE)
			return rc;
	}
}

ts_err ts_store_audit_rekey(ts_store_conn_t *c, ts_arena_t *arena,
                            const struct ts_audit_keys *old_keys,
                            const struct ts_audit_keys *new_keys, struct ts_store_rekey_result *out,
                            struct ts_error *e)
{
	*out = (struct ts_store_rekey_result){0};
	if (!c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "audit re-keying outside a transaction");
	const char *stored = NULL;
	bool found = false;
	ts_err rc = ts_store_key_check_get(c, arena, &stored, &found, e);
	if (rc == TS_ERR_OK && (!found || !ts_secret_equal(stored, old_keys->check)))
		rc = TS_FAIL(e, TS_ERR_CONFLICT, "the old master key is not this store's");
	struct rekey k = {.c = c, .old_keys = old_keys, .new_keys = new_keys, .out = out};
	if (rc == TS_ERR_OK)
		rc = all_checkpoints(c, arena, &k.cps, &k.ncps, e);
	if (rc == TS_ERR_OK)
		rc = rekey_chain(&k, arena, e);
	if (rc == TS_ERR_OK)
		rc = rekey_pending(&k, e);
	struct ts__param p[] = {TS__TEXT(META_KEY_CHECK), TS__TEXT(new_keys->check)};
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_META_SET, p, 2, NULL, e);
	return rc;
}
