/*
 * The sealed chain's keys, encoding, MACs and links (docs/audit.md, "Keys"
 * and "Encoding"). The encoding gives every field a 64-bit big-endian length
 * (a NULL text the length 2^64-1) and every number 8 big-endian bytes, after
 * a tag naming what is encoded, so that an encoding means one thing only.
 */
#include "audit/chain.h"

#include <limits.h>
#include <sodium.h>
#include <string.h>

/* crypto_kdf contexts are 8 bytes; subkey ids within them */
#define KDF_CONTEXT_AUDIT "tsaudit1"
#define KDF_ID_EVENT 1
#define KDF_ID_CHECKPOINT 2

#define TAG_EVENT "tessera-audit-event-v1"
#define TAG_LINK "tessera-audit-link-v1"
#define TAG_CHECKPOINT "tessera-audit-checkpoint-v1"
#define NULL_LEN UINT64_MAX

void ts_audit_keys_derive(const unsigned char master[TS_MASTER_KEY_LEN], struct ts_audit_keys *out)
{
	crypto_kdf_derive_from_key(out->event, sizeof out->event, KDF_ID_EVENT, KDF_CONTEXT_AUDIT,
	                           master);
	crypto_kdf_derive_from_key(out->checkpoint, sizeof out->checkpoint, KDF_ID_CHECKPOINT,
	                           KDF_CONTEXT_AUDIT, master);
	/* the same check value as the key id of sealed secrets (core/crypto.h) */
	ts_secret_key_check(master, out->check);
}

void ts_audit_keys_wipe(struct ts_audit_keys *k)
{
	if (k != NULL)
		sodium_memzero(k, sizeof *k);
}

/*
 * One sink for the event MAC (keyed BLAKE2b), the link (SHA-256) and the
 * checkpoint MAC (HMAC-SHA-256). The per-event MAC passes over the whole
 * event twice (at append and when the sealer checks it): keyed BLAKE2b,
 * libsodium's MAC of choice, costs about 6 instructions a byte where SHA-256
 * without the CPU's SHA extensions costs 30, which under callgrind was
 * 100,000 instructions per SCIM POST. Links and checkpoints hash a few
 * dozen bytes.
 */
struct sink {
	crypto_generichash_state *b2;
	struct ts_hmac_sha256 *mac;
	struct ts_sha256 *hash;
};

static void put(struct sink *s, const void *p, size_t n)
{
	if (s->b2)
		crypto_generichash_update(s->b2, p, n);
	else if (s->mac)
		ts_hmac_sha256_update(s->mac, p, n);
	else
		ts_sha256_update(s->hash, p, n);
}

static void put_u64(struct sink *s, uint64_t v)
{
	unsigned char b[sizeof v]; /* big-endian: the canonical encoding of docs/audit.md */
	for (int i = (int)sizeof v - 1; i >= 0; i--, v >>= CHAR_BIT)
		b[i] = (unsigned char)(v & UCHAR_MAX);
	put(s, b, sizeof b);
}

static void put_text(struct sink *s, const char *t)
{
	if (t == NULL) {
		put_u64(s, NULL_LEN);
		return;
	}
	size_t n = strlen(t);
	put_u64(s, (uint64_t)n);
	put(s, t, n);
}

static void put_event(struct sink *s, const struct ts_audit_fields *f)
{
	put_text(s, TAG_EVENT);
	put_u64(s, (uint64_t)f->seq);
	put_text(s, f->event_id);
	put_u64(s, (uint64_t)f->event_time_ms);
	put_text(s, f->event_name);
	put_text(s, f->account_id);
	put_text(s, f->body);
}

void ts_audit_event_mac(const struct ts_audit_keys *k, const struct ts_audit_fields *f,
                        char out[TS_AUDIT_MAC_HEX_LEN + 1])
{
	crypto_generichash_state st;
	unsigned char mac[TS_AUDIT_MAC_LEN];
	crypto_generichash_init(&st, k->event, sizeof k->event, sizeof mac);
	struct sink s = {.b2 = &st};
	put_event(&s, f);
	crypto_generichash_final(&st, mac, sizeof mac);
	ts_hex_encode(mac, sizeof mac, out);
}

static bool hex_equal(const char *a, const char *b)
{
	return b != NULL && ts_secret_equal(a, b);
}

bool ts_audit_event_mac_ok(const struct ts_audit_keys *k, const struct ts_audit_fields *f,
                           const char *mac)
{
	char want[TS_AUDIT_MAC_HEX_LEN + 1];
	ts_audit_event_mac(k, f, want);
	return hex_equal(want, mac);
}

void ts_audit_link(const char *prev_hash, int64_t seq, const char *mac,
                   char out[TS_SHA256_HEX_LEN + 1])
{
	struct ts_sha256 st;
	unsigned char h[TS_SHA256_LEN];
	ts_sha256_init(&st);
	struct sink s = {.hash = &st};
	put_text(&s, TAG_LINK);
	put_text(&s, prev_hash);
	put_u64(&s, (uint64_t)seq);
	put_text(&s, mac);
	ts_sha256_final(&st, h);
	ts_hex_encode(h, sizeof h, out);
}

void ts_audit_checkpoint_mac(const struct ts_audit_keys *k, int64_t chain_seq, const char *hash,
                             int64_t time_ms, const char *prev_mac,
                             char out[TS_AUDIT_MAC_HEX_LEN + 1])
{
	struct ts_hmac_sha256 st;
	unsigned char mac[TS_SHA256_LEN];
	ts_hmac_sha256_init(&st, k->checkpoint, sizeof k->checkpoint);
	struct sink s = {.mac = &st};
	put_text(&s, TAG_CHECKPOINT);
	put_u64(&s, (uint64_t)chain_seq);
	put_text(&s, hash);
	put_u64(&s, (uint64_t)time_ms);
	put_text(&s, prev_mac);
	ts_hmac_sha256_final(&st, mac);
	ts_hex_encode(mac, sizeof mac, out);
}

bool ts_audit_checkpoint_mac_ok(const struct ts_audit_keys *k, int64_t chain_seq, const char *hash,
                                int64_t time_ms, const char *prev_mac, const char *mac)
{
	char want[TS_AUDIT_MAC_HEX_LEN + 1];
	ts_audit_checkpoint_mac(k, chain_seq, hash, time_ms, prev_mac, want);
	return hex_equal(want, mac);
}
