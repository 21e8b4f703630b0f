/*
 * Unit tests of src/saml/spkeys.c on SQLite and PostgreSQL: a created pair
 * loads back with a private key that OpenSSL reads and that matches the
 * certificate, sealed (never stored in the clear); a rotation publishes the
 * new pair first and keeps the old one until its overlap ends, after which
 * it is gone with its sealed key; another master key opens nothing; an
 * account without pairs loads none.
 */
#include "store_fixture.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "saml/spkeys.h"
#include "store/saml.h"

#define ACCOUNT "acct-spkeys"

static void add_account(struct fx *f)
{
	struct ts_account acct = {.account_id = ACCOUNT,
	                          .name = "spkeys",
	                          .account_type = "Enterprise",
	                          .status = "Active",
	                          .created_ms = 1000,
	                          .settings = "{}"};
	OK(ts_store_account_insert(f->c, &acct, &f->e));
}

/* The private key and the certificate are one pair, as OpenSSL reads them. */
static void expect_pair(const char *key_pem, const char *cert_pem)
{
	BIO *kb = BIO_new_mem_buf(key_pem, -1), *cb = BIO_new_mem_buf(cert_pem, -1);
	EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	X509 *cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	assert_non_null(key);
	assert_non_null(cert);
	assert_int_equal(X509_check_private_key(cert, key), 1);
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(kb);
	BIO_free(cb);
}

static void test_create_load_rotate(void **state)
{
	struct fx *f = *state;
	struct ts_saml_sp_keys keys;
	const char *first = NULL, *second = NULL;
	int64_t now = ts_now_ms();
	add_account(f);
	OK(ts_saml_sp_keys_load(f->c, f->a, test_master, ACCOUNT, now, &keys, &f->e));
	assert_int_equal(keys.n, 0);

	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_saml_sp_key_create(f->c, f->a, test_master, ACCOUNT, "Tessera SAML SP test", now,
	                         &first, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_saml_sp_keys_load(f->c, f->a, test_master, ACCOUNT, now, &keys, &f->e));
	assert_int_equal(keys.n, 1);
	assert_string_equal(keys.key_ids[0], first);
	assert_int_equal(keys.retired_ms[0], 0);
	expect_pair(keys.keys_pem[0], keys.certs_pem[0]);
	/* sealed at rest */
	struct ts_store_secret row;
	bool found = false;
	OK(ts_store_secret_get(f->c, f->a, "saml_sp", first, "private_key", &row, &found, &f->e));
	assert_true(found);
	assert_null(strstr(row.sealed, "PRIVATE KEY"));
	/* another master key opens nothing */
	EXPECT(TS_ERR_INTERNAL,
	       ts_saml_sp_keys_load(f->c, f->a, other_master, ACCOUNT, now, &keys, &f->e));

	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_saml_sp_key_rotate(f->c, f->a, test_master, ACCOUNT, "Tessera SAML SP test", now + 1,
	                         &second, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_saml_sp_keys_load(f->c, f->a, test_master, ACCOUNT, now + 2, &keys, &f->e));
	assert_int_equal(keys.n, 2);
	assert_string_equal(keys.key_ids[0], second); /* the new one signs */
	assert_int_equal(keys.retired_ms[0], 0);
	assert_string_equal(keys.key_ids[1], first); /* the old one still decrypts */
	assert_int_equal(keys.retired_ms[1], now + 1 + TS_SAML_SP_KEY_OVERLAP_MS);
	expect_pair(keys.keys_pem[0], keys.certs_pem[0]);
	expect_pair(keys.keys_pem[1], keys.certs_pem[1]);
	assert_string_not_equal(keys.certs_pem[0], keys.certs_pem[1]);

	/* after the overlap: the old pair is no longer loaded, and a purge removes its key */
	int64_t later = now + 2 + TS_SAML_SP_KEY_OVERLAP_MS;
	OK(ts_saml_sp_keys_load(f->c, f->a, test_master, ACCOUNT, later, &keys, &f->e));
	assert_int_equal(keys.n, 1);
	assert_string_equal(keys.key_ids[0], second);
	int64_t purged = 0;
	OK(ts_store_saml_keys_purge(f->c, later, &purged, &f->e));
	assert_int_equal(purged, 1);
	OK(ts_store_secret_get(f->c, f->a, "saml_sp", first, "private_key", &row, &found, &f->e));
	assert_false(found);
}

/* A certificate row whose sealed private key is missing is an internal error, not a pair. */
static void test_missing_private_key(void **state)
{
	struct fx *f = *state;
	struct ts_saml_sp_keys keys;
	const char *id = NULL;
	int64_t now = ts_now_ms();
	add_account(f);
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_saml_sp_key_create(f->c, f->a, test_master, ACCOUNT, "Tessera SAML SP test", now, &id,
	                         &f->e));
	OK(ts_store_commit(f->c, &f->e));
	raw_exec(f->b, "DELETE FROM secrets WHERE owner_kind = 'saml_sp'");
	EXPECT(TS_ERR_INTERNAL,
	       ts_saml_sp_keys_load(f->c, f->a, test_master, ACCOUNT, now, &keys, &f->e));
	assert_non_null(strstr(f->e.message, "no private key"));
}

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b) T(test_create_load_rotate, b), T(test_missing_private_key, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("SAML SP keys", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
