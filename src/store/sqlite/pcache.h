/* SQLite's page cache (pcache.c): pcache1, without its walk after a split. */
#ifndef TS_STORE_SQLITE_PCACHE_H
#define TS_STORE_SQLITE_PCACHE_H

/* Hands SQLite the page cache; before SQLite's first use (else a no-op). */
void ts__sqlite_pcache_install(void);

#endif
