/*
 * The verifier of the sealed audit trail (docs/audit.md). It reads one
 * snapshot, in three passes: the checkpoints and the chain together (each
 * checkpoint's MAC over its predecessor's, each chain place after the one
 * before, each event's MAC and link, each checkpoint's hash against the
 * chain at its place); then every event by seq (sealed, or pending with a
 * good MAC: anything else was inserted behind the store's back); then the
 * pending rows whose event is gone. The first problem found is reported.
 */
#include "audit/verify.h"

#include <stdlib.h>
#include <string.h>

#define VERIFY_PAGE 1000

bool ts_audit_expect_parse(const char *text, ts_arena_t *a, struct ts_audit_expect *out)
{
	const char *colon = strchr(text, ':');
	if (colon == NULL || colon == text)
		return false;
	char *end = NULL;
	long long place = strtoll(text, &end, 10);
	if (end != colon || place < 0)
		return false;
	const char *hash = colon + 1;
	if (strlen(hash) != TS_SHA256_HEX_LEN || strspn(hash, "0123456789abcdef") != strlen(hash))
		return false;
	out->chain_seq = place;
	out->hash = ts_arena_strdup(a, hash);
	return true;
}

/* Records the first problem; returns false so that callers can stop with it. */
static bool broken(struct ts_audit_report *out, ts_arena_t *a, const struct ts_audit_record *ev,
                   int64_t chain_seq, const char *why)
{
	if (!out->ok)
		return false;
	out->ok = false;
	out->why = why;
	out->bad_chain_seq = chain_seq;
	if (ev != NULL) {
		out->bad_seq = ev->seq;
		out->bad_event = ev->event_id ? ts_arena_strdup(a, ev->event_id) : NULL;
	}
	return false;
}

static struct ts_audit_fields fields_of(const struct ts_audit_record *r)
{
	struct ts_audit_fields f;
	ts_store_audit_fields(r, &f);
	return f;
}

/* The walk over checkpoints, a page at a time. */
struct cp_cursor {
	ts_arena_t *page;
	struct ts_audit_checkpoint *list;
	int n, i;
	int64_t after;
	char prev_mac[TS_AUDIT_MAC_HEX_LEN + 1];
};

static ts_err cp_next(ts_store_conn_t *c, struct cp_cursor *cur, struct ts_audit_checkpoint **out,
                      struct ts_error *e)
{
	*out = NULL;
	if (cur->i == cur->n) {
		ts_arena_free(&cur->page);
		cur->page = ts_arena_new();
		ts_err rc = ts_store_audit_checkpoints(c, cur->page, cur->after, VERIFY_PAGE,
		                                       &cur->list, &cur->n, e);
		cur->i = 0;
		if (rc != TS_ERR_OK || cur->n == 0)
			return rc;
	}
	*out = &cur->list[cur->i++];
	cur->after = (*out)->chain_seq;
	return TS_ERR_OK;
}

/* Checks checkpoint cp against the keys and the chain's link at its place. */
static bool cp_check(const struct ts_audit_keys *k, struct cp_cursor *cur,
                     const struct ts_audit_checkpoint *cp, const char *link,
                     struct ts_audit_report *out, ts_arena_t *a)
{
	if (!ts_audit_checkpoint_mac_ok(k, cp->chain_seq, cp->hash, cp->time_ms, cur->prev_mac,
	                                cp->mac))
		return broken(
		        out, a, NULL, cp->chain_seq,
		        ts_arena_printf(a,
		                        "the checkpoint at chain place %lld does not carry this "
		                        "key's MAC over itself and the checkpoint before it: "
		                        "forged, edited, or one before it was deleted",
		                        (long long)cp->chain_seq));
	if (strcmp(cp->hash, link) != 0)
		return broken(
		        out, a, NULL, cp->chain_seq,
		        ts_arena_printf(a,
		                        "the chain at place %lld does not end in the hash its "
		                        "checkpoint names: the chain was rewritten",
		                        (long long)cp->chain_seq));
	memcpy(cur->prev_mac, cp->mac, sizeof cur->prev_mac);
	out->checkpoints++;
	out->last = *cp;
	out->last.hash = ts_arena_strdup(a, cp->hash);
	out->last.mac = ts_arena_strdup(a, cp->mac);
	return true;
}

/* Pass 1: the checkpoints and the chain up to the newest checkpoint. */
static ts_err check_chain(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_keys *k,
                          const struct ts_audit_expect *expect, struct ts_audit_report *out,
                          struct ts_error *e)
{
	struct ts_audit_checkpoint last;
	bool found = false;
	ts_err rc = ts_store_audit_checkpoint_last(c, a, &last, &found, e);
	if (rc != TS_ERR_OK || !found) {
		if (rc == TS_ERR_OK)
			broken(out, a, NULL, 0,
			       "the store has no checkpoint, not even the genesis one that every "
			       "store gets: the trail was deleted");
		return rc;
	}
	struct cp_cursor cur = {.after = -1};
	struct ts_audit_checkpoint *cp = NULL;
	char link[TS_SHA256_HEX_LEN + 1] = TS_AUDIT_GENESIS_HASH;
	const char *expect_found = NULL;
	rc = cp_next(c, &cur, &cp, e);
	if (rc == TS_ERR_OK && (cp == NULL || cp->chain_seq != 0)) {
		broken(out, a, NULL, 0, "the genesis checkpoint (chain place 0) is missing");
		goto done;
	}
	if (rc != TS_ERR_OK || !cp_check(k, &cur, cp, link, out, a))
		goto done;
	if (expect != NULL && expect->chain_seq == 0)
		expect_found = ts_arena_strdup(a, link);
	rc = cp_next(c, &cur, &cp, e);
	int64_t place = 0;
	while (rc == TS_ERR_OK && out->ok && place < last.chain_seq) {
		ts_arena_t *page = ts_arena_new();
		struct ts_audit_record *evs = NULL;
		int n = 0;
		rc = ts_store_audit_chain_walk(c, page, place, last.chain_seq, VERIFY_PAGE, &evs,
		                               &n, e);
		if (rc == TS_ERR_OK && n == 0)
			broken(out, a, NULL, place + 1,
			       ts_arena_printf(
			               a,
			               "the chain ends at place %lld but the newest checkpoint "
			               "covers %lld: sealed events were deleted",
			               (long long)place, (long long)last.chain_seq));
		for (int i = 0; rc == TS_ERR_OK && out->ok && i < n; i++) {
			const struct ts_audit_record *ev = &evs[i];
			struct ts_audit_fields f = fields_of(ev);
			if (ev->chain_seq != place + 1) {
				broken(out, a, NULL, place + 1,
				       ts_arena_printf(
				               a,
				               "chain place %lld is missing (the next one is "
				               "%lld): sealed events were deleted",
				               (long long)(place + 1), (long long)ev->chain_seq));
				break;
			}
			if (ev->event_id == NULL) {
				broken(out, a, ev, ev->chain_seq,
				       ts_arena_printf(a,
				                       "event %lld, sealed at chain place %lld, is "
				                       "missing: it was deleted",
				                       (long long)ev->seq,
				                       (long long)ev->chain_seq));
				break;
			}
			if (!ts_audit_event_mac_ok(k, &f, ev->mac)) {
				broken(out, a, ev, ev->chain_seq,
				       "its stored columns do not match its MAC: edited, moved to "
				       "another seq, or forged");
				break;
			}
			ts_audit_link(link, ev->seq, ev->mac, link);
			if (strcmp(link, ev->hash) != 0) {
				broken(out, a, ev, ev->chain_seq,
				       "its chain link does not follow from the one before it: the "
				       "chain was reordered or rewritten");
				break;
			}
			place = ev->chain_seq;
			out->sealed++;
			if (expect != NULL && expect->chain_seq == place)
				expect_found = ts_arena_strdup(a, link);
			while (rc == TS_ERR_OK && out->ok && cp != NULL && cp->chain_seq <= place) {
				if (cp->chain_seq < place)
					broken(out, a, NULL, cp->chain_seq,
					       "a checkpoint names a chain place twice");
				else if (cp_check(k, &cur, cp, link, out, a))
					rc = cp_next(c, &cur, &cp, e);
			}
		}
		ts_arena_free(&page);
	}
	if (rc != TS_ERR_OK || !out->ok)
		goto done;
	int64_t max = 0;
	rc = ts_store_audit_chain_max(c, &max, e);
	if (rc == TS_ERR_OK && max > last.chain_seq) {
		broken(out, a, NULL, last.chain_seq + 1,
		       ts_arena_printf(a,
		                       "chain places %lld to %lld are not covered by a checkpoint: "
		                       "checkpoints were deleted or the chain was extended "
		                       "without the key",
		                       (long long)(last.chain_seq + 1), (long long)max));
		goto done;
	}
	if (rc == TS_ERR_OK && expect != NULL) {
		if (expect->chain_seq > last.chain_seq)
			broken(out, a, NULL, last.chain_seq + 1,
			       ts_arena_printf(
			               a,
			               "the sealed chain ends at place %lld but the external "
			               "checkpoint names place %lld: events were removed from "
			               "its end",
			               (long long)last.chain_seq, (long long)expect->chain_seq));
		else if (expect_found == NULL || strcmp(expect_found, expect->hash) != 0)
			broken(out, a, NULL, expect->chain_seq,
			       ts_arena_printf(
			               a,
			               "the chain at place %lld does not have the hash of the "
			               "external checkpoint: the trail was rewritten",
			               (long long)expect->chain_seq));
	}
done:
	ts_arena_free(&cur.page);
	return rc;
}

/* Pass 2: every event is sealed, or pending with its MAC. */
static ts_err check_events(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_keys *k,
                           struct ts_audit_report *out, struct ts_error *e)
{
	int64_t after = 0;
	ts_err rc = TS_ERR_OK;
	for (;;) {
		ts_arena_t *page = ts_arena_new();
		struct ts_audit_record *evs = NULL;
		int n = 0;
		rc = ts_store_audit_walk(c, page, after, VERIFY_PAGE, &evs, &n, e);
		for (int i = 0; rc == TS_ERR_OK && out->ok && i < n; i++) {
			const struct ts_audit_record *ev = &evs[i];
			struct ts_audit_fields f = fields_of(ev);
			after = ev->seq;
			if (ev->chain_seq > 0 && ev->chain_seq <= out->last.chain_seq)
				continue; /* checked in the chain pass */
			if (ev->pending == TS_AUDIT_NOT_PENDING) {
				broken(out, a, ev, 0,
				       ev->chain_seq > 0
				               ? "it is chained after the newest checkpoint"
				               : "it is neither sealed nor pending: it was "
				                 "inserted "
				                 "behind the store's back");
			} else if (!ts_audit_event_mac_ok(k, &f, ev->mac)) {
				broken(out, a, ev, 0,
				       "it is not sealed yet and its stored columns do not match "
				       "its "
				       "MAC: forged or edited");
			} else {
				out->unsealed++;
				if (out->oldest_unsealed_ms == 0 ||
				    ev->event_time_ms < out->oldest_unsealed_ms)
					out->oldest_unsealed_ms = ev->event_time_ms;
			}
		}
		ts_arena_free(&page);
		if (rc != TS_ERR_OK || !out->ok || n < VERIFY_PAGE)
			break;
	}
	int64_t orphan = 0;
	if (rc == TS_ERR_OK && out->ok)
		rc = ts_store_audit_pending_orphan(c, &orphan, e);
	if (rc == TS_ERR_OK && orphan > 0) {
		struct ts_audit_record gone = {.seq = orphan};
		broken(out, a, &gone, 0,
		       ts_arena_printf(a,
		                       "event %lld was deleted before it was sealed (its pending "
		                       "row remains)",
		                       (long long)orphan));
	}
	return rc;
}

ts_err ts_audit_verify(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_keys *k,
                       const struct ts_audit_expect *expect, struct ts_audit_report *out,
                       struct ts_error *e)
{
	*out = (struct ts_audit_report){.ok = true};
	ts_err rc = ts_store_audit_snapshot_begin(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = check_chain(c, a, k, expect, out, e);
	if (rc == TS_ERR_OK && out->ok)
		rc = check_events(c, a, k, out, e);
	ts_store_rollback(c);
	return rc;
}
