/*
 * SQLite's own page cache (pcache1), with one key moved out of its way.
 *
 * When a b-tree split leaves its new pages out of order, SQLite swaps their
 * numbers through a spare one: the page after the lock byte's page (1 GiB
 * into the file, page 262145 at 4 KiB), which no database below 1 GiB has.
 * pcache1 remembers the highest page number it has seen, and every COMMIT
 * drops the pages past the database's end: when that highest number is far
 * past the end, it walks its whole hash table and every cached page to find
 * none. So nearly every index page split (inserts into user_emails, the users
 * indexes, the audit indexes) cost the next COMMIT a walk of the writer's
 * 8,192 hash slots and cached pages, with the writer lock held.
 *
 * The wrapper gives pcache1 page number 0 instead of the spare one, which
 * SQLite never uses and which is above nothing: the swap works as before, and
 * the highest number pcache1 knows stays the database's own. Everything else
 * is pcache1's.
 */
#include "store/sqlite/pcache.h"

#include <sqlite3.h>

#include "core/alloc.h"

/* SQLite's lock-byte offset (PENDING_BYTE); only test builds move it */
#define LOCK_BYTE_OFFSET 0x40000000u

struct wrapped {
	sqlite3_pcache *inner;
	unsigned spare; /* the page number SQLite swaps through, for this page size */
};

static sqlite3_pcache_methods2 base;

static unsigned inner_key(const struct wrapped *w, unsigned key)
{
	return key == w->spare ? 0 : key;
}

static int pc_init(void *arg)
{
	return base.xInit != NULL ? base.xInit(arg) : SQLITE_OK;
}

static void pc_shutdown(void *arg)
{
	if (base.xShutdown != NULL)
		base.xShutdown(arg);
}

static sqlite3_pcache *pc_create(int page_size, int extra, int purgeable)
{
	sqlite3_pcache *inner = base.xCreate(page_size, extra, purgeable);
	if (inner == NULL)
		return NULL;
	struct wrapped *w = ts_calloc(1, sizeof *w);
	w->inner = inner;
	w->spare = page_size > 0 ? LOCK_BYTE_OFFSET / (unsigned)page_size + 1 : 0;
	return (sqlite3_pcache *)w;
}

static void pc_cachesize(sqlite3_pcache *p, int n)
{
	base.xCachesize(((struct wrapped *)p)->inner, n);
}

static int pc_pagecount(sqlite3_pcache *p)
{
	return base.xPagecount(((struct wrapped *)p)->inner);
}

static sqlite3_pcache_page *pc_fetch(sqlite3_pcache *p, unsigned key, int create)
{
	struct wrapped *w = (struct wrapped *)p;
	return base.xFetch(w->inner, inner_key(w, key), create);
}

static void pc_unpin(sqlite3_pcache *p, sqlite3_pcache_page *page, int discard)
{
	base.xUnpin(((struct wrapped *)p)->inner, page, discard);
}

static void pc_rekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned from, unsigned to)
{
	struct wrapped *w = (struct wrapped *)p;
	base.xRekey(w->inner, page, inner_key(w, from), inner_key(w, to));
}

static void pc_truncate(sqlite3_pcache *p, unsigned limit)
{
	base.xTruncate(((struct wrapped *)p)->inner, limit);
}

static void pc_destroy(sqlite3_pcache *p)
{
	struct wrapped *w = (struct wrapped *)p;
	base.xDestroy(w->inner);
	ts_free(w);
}

static void pc_shrink(sqlite3_pcache *p)
{
	base.xShrink(((struct wrapped *)p)->inner);
}

void ts__sqlite_pcache_install(void)
{
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK || base.xCreate == NULL)
		return;
	static sqlite3_pcache_methods2 methods;
	methods = base;
	methods.xInit = pc_init;
	methods.xShutdown = pc_shutdown;
	methods.xCreate = pc_create;
	methods.xCachesize = pc_cachesize;
	methods.xPagecount = pc_pagecount;
	methods.xFetch = pc_fetch;
	methods.xUnpin = pc_unpin;
	methods.xRekey = pc_rekey;
	methods.xTruncate = pc_truncate;
	methods.xDestroy = pc_destroy;
	methods.xShrink = base.xShrink != NULL ? pc_shrink : NULL;
	(void)sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods);
}
