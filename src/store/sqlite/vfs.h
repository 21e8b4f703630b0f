/* The store's SQLite VFS (vfs.c): the system's, with a commit's WAL frames written at once. */
#ifndef TS_STORE_SQLITE_VFS_H
#define TS_STORE_SQLITE_VFS_H

/* The VFS's name for sqlite3_open_v2, registered at the first call; NULL: SQLite's default. */
const char *ts__sqlite_vfs(void);

/*
 * Creates name owner-only (0600) when it does not exist, so that SQLite's
 * files for it get that mode too (vfs.c); the VFS does it for a new
 * database, the store for one opened through SQLite's default VFS.
 */
void ts__sqlite_create_private(const char *name);

#endif
