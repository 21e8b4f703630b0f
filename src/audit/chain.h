/*
 * The sealed audit chain's cryptography (docs/audit.md): the keys derived
 * from the master key, the canonical encoding of a stored event, the
 * per-event MAC written at append time, the link hash the sealer gives each
 * event, and the MAC of a checkpoint. Pure functions, no I/O: the store calls
 * them inside its transactions, the verifier calls them over what it reads.
 */
#ifndef TS_AUDIT_CHAIN_H
#define TS_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"

#define TS_AUDIT_KEY_LEN 32
#define TS_AUDIT_MAC_LEN 32
#define TS_AUDIT_MAC_HEX_LEN (2 * TS_AUDIT_MAC_LEN)
/* The hash before the first sealed event, and the genesis checkpoint's hash. */
#define TS_AUDIT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/*
 * What the audit trail needs of the master key, derived once (libsodium
 * crypto_kdf, BLAKE2b): the key of the per-event MACs, the key of the
 * checkpoint MACs, and the check value stored with the store so that a node
 * given another master key refuses to start. None of them gives back the
 * master key or another of them.
 */
struct ts_audit_keys {
	unsigned char event[TS_AUDIT_KEY_LEN];
	unsigned char checkpoint[TS_AUDIT_KEY_LEN];
	char check[TS_SHA256_HEX_LEN + 1]; /* hex; stored in the store, not secret */
};

void ts_audit_keys_derive(const unsigned char master[TS_MASTER_KEY_LEN], struct ts_audit_keys *out);
/* Wipes the keys. */
void ts_audit_keys_wipe(struct ts_audit_keys *k);

/* Every stored column of an event (the columns of audit_events but its MAC). */
struct ts_audit_fields {
	int64_t seq;
	const char *event_id;
	int64_t event_time_ms;
	const char *event_name;
	const char *account_id; /* may be NULL (distinct from "") */
	const char *body;
};

/*
 * The event's MAC: keyed BLAKE2b-256 (libsodium crypto_generichash with the
 * event key) over the canonical encoding of every column, as 64 hex
 * characters. The encoding is length-prefixed, so no two
 * different sets of columns encode alike.
 */
void ts_audit_event_mac(const struct ts_audit_keys *k, const struct ts_audit_fields *f,
                        char out[TS_AUDIT_MAC_HEX_LEN + 1]);
/* Whether mac (may be NULL) is the event's MAC, compared in constant time. */
bool ts_audit_event_mac_ok(const struct ts_audit_keys *k, const struct ts_audit_fields *f,
                           const char *mac);
/*
 * The chain link: SHA-256 over a domain tag, the previous link, the event's
 * seq and its MAC. The MAC stands for every column (nobody without the key
 * can find other columns with the same MAC), so the link commits to them
 * without hashing the body a second time at sealing.
 */
void ts_audit_link(const char *prev_hash, int64_t seq, const char *mac,
                   char out[TS_SHA256_HEX_LEN + 1]);
/*
 * HMAC-SHA-256 with the checkpoint key over the number of sealed events
 * (chain_seq), the last link, the checkpoint's time and the previous
 * checkpoint's MAC ("" for the genesis checkpoint).
 */
void ts_audit_checkpoint_mac(const struct ts_audit_keys *k, int64_t chain_seq, const char *hash,
                             int64_t time_ms, const char *prev_mac,
                             char out[TS_AUDIT_MAC_HEX_LEN + 1]);
bool ts_audit_checkpoint_mac_ok(const struct ts_audit_keys *k, int64_t chain_seq, const char *hash,
                                int64_t time_ms, const char *prev_mac, const char *mac);

#endif
