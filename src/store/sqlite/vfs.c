/*
 * The store's SQLite VFS: the system's ("unix"), except that a WAL file
 * writes a commit's frames in one system call.
 *
 * SQLite writes each WAL frame as two writes, its 24-byte header and its
 * page, so a COMMIT of n pages is 2n pwrite calls, and each 4 KiB page lands
 * across two pages of the kernel's cache. The writer's COMMIT runs with the
 * store's writer lock held, so every microsecond of it is one every other
 * write waits for.
 *
 * Here, frames appended at the WAL's end are collected in a buffer and go to
 * the file together when the commit frame's page arrives: that write then
 * returns the outcome of all of them, where SQLite expects it, and before
 * SQLite publishes the new end of the WAL to readers (which it does after the
 * frames are written). The commit frame is the one whose header carries the
 * database's size (the WAL format's "size in pages after the commit"; zero in
 * every other frame). Whatever does not follow that pattern, a rewrite of an
 * earlier frame, the WAL header, a read, a sync, a truncation, a size query,
 * first writes out what is held and then goes straight to the file. What is
 * held at any moment is therefore only frames of a transaction that has not
 * committed, which neither a reader nor recovery after a crash may see.
 */
#include "store/sqlite/vfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

#define VFS_NAME "tessera"
#define FRAME_HEADER 24 /* WAL_FRAME_HDRSIZE in the WAL format */
/* held at most, then written early: SQLite's unix VFS writes under 128 KiB per call */
#define HOLD_MAX (124 * 1024)

struct wal_file {
	sqlite3_file base; /* our methods */
	sqlite3_file *real;
	/* HOLD_MAX bytes, from the first write; held: the file's bytes [at, at + len) */
	unsigned char *buf;
	int len;
	sqlite3_int64 at;
	/* where the next frame appended to the WAL starts; -1 until known */
	sqlite3_int64 next_frame;
	sqlite3_int64 header_at; /* the last frame header written, -1 when a page followed it */
	bool header_held;        /* ...it is held, so its page is too */
	bool commit;             /* ...it is a commit frame's */
};

static sqlite3_vfs *real_vfs;

static int flush(struct wal_file *w)
{
	if (w->len == 0)
		return SQLITE_OK;
	int rc = w->real->pMethods->xWrite(w->real, w->buf, w->len, w->at);
	w->len = 0;
	w->header_held = false;
	return rc;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Adds n bytes at off to the held ones; false when they do not extend them or do not fit. */
static bool hold(struct wal_file *w, const void *data, int n, sqlite3_int64 off)
{
	if ((w->len > 0 && off != w->at + w->len) || w->len + n > HOLD_MAX)
		return false;
	if (w->buf == NULL)
		w->buf = ts_malloc(HOLD_MAX);
	if (w->len == 0)
		w->at = off;
	memcpy(w->buf + w->len, data, (size_t)n);
	w->len += n;
	return true;
}

/* What is held goes out first, then n bytes at off, as they are. */
static int write_through(struct wal_file *w, const void *data, int n, sqlite3_int64 off)
{
	int rc = flush(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xWrite(w->real, data, n, off);
}

static int wal_write(sqlite3_file *f, const void *data, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = SQLITE_OK;
	if (n == FRAME_HEADER) {
		/* a frame header: held when it is appended at the WAL's known end */
		bool held = false;
		if (off == w->next_frame && (w->len == 0 || off == w->at + w->len)) {
			held = hold(w, data, n, off);
			if (!held) { /* no room: what is held goes out first */
				rc = flush(w);
				held = rc == SQLITE_OK && hold(w, data, n, off);
			}
		}
		if (rc == SQLITE_OK && !held)
			rc = write_through(w, data, n, off);
		w->header_at = rc == SQLITE_OK ? off : -1;
		w->header_held = held && rc == SQLITE_OK;
		/* the database's size in pages after a commit, zero in other frames */
		w->commit = get32((const unsigned char *)data + 4) != 0;
		return rc;
	}
	if (w->header_at >= 0 && off == w->header_at + FRAME_HEADER) {
		/* the page of the frame whose header came last */
		bool held = w->header_held && hold(w, data, n, off);
		rc = held ? SQLITE_OK : write_through(w, data, n, off);
		w->header_at = -1;
		w->header_held = false;
		w->next_frame = rc == SQLITE_OK ? off + n : -1;
		if (rc == SQLITE_OK && w->commit)
			rc = flush(w); /* the commit ends here: all of it goes out now */
		return rc;
	}
	/* anything else: the WAL header (frames follow it), a page or checksum rewritten */
	rc = write_through(w, data, n, off);
	w->header_at = -1;
	w->next_frame = rc == SQLITE_OK && off == 0 ? n : w->next_frame;
	return rc;
}

static int wal_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	int rc2 = w->real->pMethods->xClose(w->real);
	ts_free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wal_read(sqlite3_file *f, void *out, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, out, n, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	if (rc == SQLITE_OK && w->next_frame > size)
		w->next_frame = -1;
	return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int wal_lock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xLock(w->real, level);
}

static int wal_unlock(sqlite3_file *f, int level)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xUnlock(w->real, level);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xFileControl(w->real, op, arg);
}

static int wal_sector_size(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xSectorSize(w->real);
}

static int wal_device(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xDeviceCharacteristics(w->real);
}

static int wal_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xShmMap(w->real, page, size, extend, out);
}

static int wal_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xShmLock(w->real, offset, n, flags);
}

static void wal_shm_barrier(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	w->real->pMethods->xShmBarrier(w->real);
}

static int wal_shm_unmap(sqlite3_file *f, int delete_flag)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xShmUnmap(w->real, delete_flag);
}

static int wal_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xFetch(w->real, off, n, out);
}

static int wal_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	struct wal_file *w = (struct wal_file *)f;
	return w->real->pMethods->xUnfetch(w->real, off, p);
}

/* one table per version of the real file's methods: SQLite checks iVersion before the later ones */
static const sqlite3_io_methods wal_methods[3] = {
        {1, wal_close, wal_read, wal_write, wal_truncate, wal_sync, wal_file_size, wal_lock,
         wal_unlock, wal_check_reserved, wal_file_control, wal_sector_size, wal_device, NULL, NULL,
         NULL, NULL, NULL, NULL},
        {2, wal_close, wal_read, wal_write, wal_truncate, wal_sync, wal_file_size, wal_lock,
         wal_unlock, wal_check_reserved, wal_file_control, wal_sector_size, wal_device, wal_shm_map,
         wal_shm_lock, wal_shm_barrier, wal_shm_unmap, NULL, NULL},
        {3, wal_close, wal_read, wal_write, wal_truncate, wal_sync, wal_file_size, wal_lock,
         wal_unlock, wal_check_reserved, wal_file_control, wal_sector_size, wal_device, wal_shm_map,
         wal_shm_lock, wal_shm_barrier, wal_shm_unmap, wal_fetch, wal_unfetch},
};

/*
 * A new database file is made owner-only before SQLite opens it: it holds API key
 * hashes, sealed secrets and the audit trail. SQLite's unix VFS gives the WAL, the
 * rollback journal and the -shm file the mode of the database file, so all of them
 * are 0600 too, whatever the umask.
 */
void ts__sqlite_create_private(const char *name)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);
	if (fd >= 0)
		close(fd); /* an existing file (EEXIST) keeps the mode its owner gave it */
}

static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	(void)vfs;
	if ((flags & SQLITE_OPEN_MAIN_DB) && (flags & SQLITE_OPEN_CREATE) && name != NULL)
		ts__sqlite_create_private(name);
	if (!(flags & SQLITE_OPEN_WAL))
		return real_vfs->xOpen(real_vfs, name, f, flags, out); /* the real file, as it is */
	struct wal_file *w = (struct wal_file *)f;
	memset(w, 0, sizeof *w);
	w->real = (sqlite3_file *)(w + 1);
	w->next_frame = -1;
	int rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out);
	if (rc != SQLITE_OK || w->real->pMethods == NULL) {
		if (w->real->pMethods != NULL)
			(void)w->real->pMethods->xClose(w->real);
		w->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	int version = w->real->pMethods->iVersion;
	w->base.pMethods = &wal_methods[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
	return SQLITE_OK;
}

/* The rest is the real VFS's, called with the real VFS. */
static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void vfs_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, lib, sym);
}

static void vfs_dl_close(sqlite3_vfs *vfs, void *lib)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, lib);
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs vfs;

static void install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL || real_vfs->iVersion < 2)
		return; /* nothing to wrap: the default VFS is used as it is */
	vfs = (sqlite3_vfs){
	        .iVersion = 2,
	        .szOsFile = (int)sizeof(struct wal_file) + real_vfs->szOsFile,
	        .mxPathname = real_vfs->mxPathname,
	        .zName = VFS_NAME,
	        .xOpen = vfs_open,
	        .xDelete = vfs_delete,
	        .xAccess = vfs_access,
	        .xFullPathname = vfs_full_pathname,
	        .xDlOpen = vfs_dl_open,
	        .xDlError = vfs_dl_error,
	        .xDlSym = vfs_dl_sym,
	        .xDlClose = vfs_dl_close,
	        .xRandomness = vfs_randomness,
	        .xSleep = vfs_sleep,
	        .xCurrentTime = vfs_current_time,
	        .xGetLastError = vfs_last_error,
	        .xCurrentTimeInt64 = vfs_current_time64,
	};
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK)
		real_vfs = NULL;
}

const char *ts__sqlite_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, install);
	return real_vfs != NULL ? VFS_NAME : NULL;
}
