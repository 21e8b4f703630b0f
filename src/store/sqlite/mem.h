/* SQLite's allocator (mem.c): glibc's malloc behind a per-thread cache. */
#ifndef TS_STORE_SQLITE_MEM_H
#define TS_STORE_SQLITE_MEM_H

/* Hands SQLite the allocator; before SQLite's first use (else a no-op). */
void ts__sqlite_mem_install(void);

#endif
