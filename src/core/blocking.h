/*
 * Telling a thread pool that this thread is about to wait (for a lock held
 * by others, a group commit, the network), so that it can run another of its
 * threads meanwhile, and that the wait is over. A thread that belongs to no
 * pool has no hook, and the calls cost a thread-local read.
 */
#ifndef TS_CORE_BLOCKING_H
#define TS_CORE_BLOCKING_H

#include <stdbool.h>

typedef void (*ts_blocking_fn)(void *arg, bool blocked);

/* Installs the calling thread's hook (NULL removes it). */
void ts_blocking_hook(ts_blocking_fn fn, void *arg);
/* Around a wait; calls nest (only the outermost pair reaches the hook). */
void ts_blocking_begin(void);
void ts_blocking_end(void);

#endif
