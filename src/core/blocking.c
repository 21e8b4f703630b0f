/* The calling thread's blocking hook (see blocking.h). */
#include "core/blocking.h"

#include <stddef.h>

static _Thread_local ts_blocking_fn hook;
static _Thread_local void *hook_arg;
static _Thread_local int depth;

void ts_blocking_hook(ts_blocking_fn fn, void *arg)
{
	hook = fn;
	hook_arg = arg;
	depth = 0;
}

void ts_blocking_begin(void)
{
	if (depth++ == 0 && hook != NULL)
		hook(hook_arg, true);
}

void ts_blocking_end(void)
{
	if (depth > 0 && --depth == 0 && hook != NULL)
		hook(hook_arg, false);
}
