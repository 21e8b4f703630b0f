/*
 * scim_load: fills a Tessera store with SCIM users and group memberships for
 * bench/scim_bench.sh, through the store's own functions
 * (ts_store_user_insert, ts_store_group_members_add), so that every row,
 * address (user_emails) and index entry is exactly what POST /Users and a
 * group PATCH write. It skips HTTP and the audit chain: those are what the
 * benchmark measures, not what it needs as background data.
 *
 *   scim_load DB ACCOUNT_ID USERS IDS_OUT [GROUP_ID:FIRST:COUNT ...]
 *
 * Users are user%07d@bench.example (index from 0), with time-ordered v7 ids (as the server assigns)
 * written one per line to IDS_OUT in index order. Each GROUP_ID:FIRST:COUNT adds users FIRST ..
 * FIRST+COUNT-1 to an existing group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "store/store.h"

#define LOAD_TX_ROWS 50000      /* users per transaction */
#define LOAD_MEMBER_CHUNK 20000 /* ids per members_add statement */
#define LOAD_SCHEMA_USER "urn:ietf:params:scim:schemas:core:2.0:User"

static int fail(const char *what, const struct ts_error *e)
{
	fprintf(stderr, "scim_load: %s: %s\n", what, e->message);
	return 1;
}

static int add_members(ts_store_conn_t *c, char (*ids)[TS_UUID_LEN + 1], long nusers,
                       const char *spec)
{
	struct ts_error e = {0};
	char group[TS_UUID_LEN + 1];
	long first = 0, count = 0;
	if (sscanf(spec, "%36[^:]:%ld:%ld", group, &first, &count) != 3 || first < 0 || count < 0 ||
	    first + count > nusers) {
		fprintf(stderr, "scim_load: bad group spec %s\n", spec);
		return 1;
	}
	ts_arena_t *a = ts_arena_new();
	/* a JSON array of ids: 39 bytes per id with quotes and comma */
	char *json = ts_arena_alloc(a, (size_t)LOAD_MEMBER_CHUNK * 40 + 3);
	int rc = 0;
	for (long i = first; i < first + count && rc == 0; i += LOAD_MEMBER_CHUNK) {
		long end = i + LOAD_MEMBER_CHUNK < first + count ? i + LOAD_MEMBER_CHUNK
		                                                 : first + count;
		size_t n = 0;
		json[n++] = '[';
		for (long k = i; k < end; k++) {
			if (k > i)
				json[n++] = ',';
			json[n++] = '"';
			memcpy(json + n, ids[k], TS_UUID_LEN);
			n += TS_UUID_LEN;
			json[n++] = '"';
		}
		json[n++] = ']';
		json[n] = '\0';
		if (ts_store_begin(c, true, &e) != TS_ERR_OK ||
		    ts_store_group_members_add(c, group, json, &e) != TS_ERR_OK ||
		    ts_store_commit(c, &e) != TS_ERR_OK) {
			ts_store_rollback(c);
			rc = fail("group members", &e);
		}
	}
	ts_arena_free(&a);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: scim_load DB ACCOUNT_ID USERS IDS_OUT "
		                "[GROUP_ID:FIRST:COUNT ...]\n");
		return 2;
	}
	const char *db = argv[1], *account = argv[2], *ids_path = argv[4];
	long nusers = strtol(argv[3], NULL, 10);
	if (nusers <= 0 || nusers > 100000000) {
		fprintf(stderr, "scim_load: USERS must be 1 .. 100000000\n");
		return 2;
	}
	struct ts_error e = {0};
	ts_store_t *s = NULL;
	ts_store_conn_t *c = NULL;
	char(*ids)[TS_UUID_LEN + 1] = ts_calloc((size_t)nusers, sizeof *ids);
	FILE *out = fopen(ids_path, "w");
	ts_arena_t *a = NULL;
	int status = 1;
	if (out == NULL) {
		perror(ids_path);
		goto done;
	}
	struct ts_store_options so = {.durability = TS_DURABILITY_NORMAL};
	if (ts_store_open(db, false, &so, &s, &e) != TS_ERR_OK ||
	    ts_store_connect(s, &c, &e) != TS_ERR_OK) {
		status = fail(db, &e);
		goto done;
	}
	int64_t t0 = ts_mono_ns(), now = ts_now_ms();
	for (long i = 0; i < nusers; i++) {
		if (i % LOAD_TX_ROWS == 0) {
			if (i > 0 && ts_store_commit(c, &e) != TS_ERR_OK) {
				status = fail("commit", &e);
				goto done;
			}
			ts_arena_free(&a);
			a = ts_arena_new();
			if (ts_store_begin(c, true, &e) != TS_ERR_OK) {
				status = fail("begin", &e);
				goto done;
			}
		}
		ts_uuid_v7(ids[i]); /* as POST /Users assigns them */
		fprintf(out, "%s\n", ids[i]);
		char name[64];
		snprintf(name, sizeof name, "user%07ld@bench.example", i);
		/* what POST /Users stores for {"schemas":[..],"userName":..,"emails":[..]} */
		const char *resource = ts_arena_printf(
		        a,
		        "{\"schemas\":[\"" LOAD_SCHEMA_USER "\"],\"userName\":\"%s\","
		        "\"name\":{\"givenName\":\"User\",\"familyName\":\"%07ld\"},"
		        "\"emails\":[{\"value\":\"%s\",\"type\":\"work\",\"primary\":true}]}",
		        name, i, name);
		struct ts_user_row u = {.user_id = ids[i],
		                        .account_id = account,
		                        .user_name = name,
		                        .active = true,
		                        .resource = resource,
		                        .version = 1,
		                        .created_ms = now + i,
		                        .modified_ms = now + i};
		struct ts_user_email em = {.value = name, .type = "work", .primary = true};
		if (ts_store_user_insert(c, &u, &em, 1, &e) != TS_ERR_OK) {
			ts_store_rollback(c);
			status = fail("user insert", &e);
			goto done;
		}
	}
	if (ts_store_commit(c, &e) != TS_ERR_OK) {
		status = fail("commit", &e);
		goto done;
	}
	ts_arena_free(&a);
	fprintf(stderr, "scim_load: %ld users in %.1f s\n", nusers,
	        (double)(ts_mono_ns() - t0) / 1e9);
	for (int g = 5; g < argc; g++) {
		t0 = ts_mono_ns();
		if (add_members(c, ids, nusers, argv[g]) != 0)
			goto done;
		fprintf(stderr, "scim_load: members %s in %.1f s\n", argv[g],
		        (double)(ts_mono_ns() - t0) / 1e9);
	}
	status = 0;
done:
	ts_arena_free(&a);
	if (out != NULL)
		fclose(out);
	ts_store_disconnect(&c);
	ts_store_free(&s);
	ts_free(ids);
	return status;
}
