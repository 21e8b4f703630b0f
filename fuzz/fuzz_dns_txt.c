/*
 * libFuzzer target for the TXT answer parser (ts_net_dns_txt_parse): raw DNS
 * messages as a server could send them. c-ares parses the wire; this checks
 * our chunk joining, caps and ownership on whatever c-ares accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_arena_t *arena = ts_arena_new();
	char **rec = NULL;
	size_t n = 0;
	ts_err rc = ts_net_dns_txt_parse(data, size, arena, &rec, &n, NULL);
	if (rc == TS_ERR_OK) {
		if (n == 0 || n > TS_NET_DNS_MAX_RECORDS)
			abort();
		size_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += strlen(rec[i]); /* every record is a NUL-terminated string */
		if (total > TS_NET_DNS_MAX_TOTAL || total > size)
			abort();
	} else if (rec != NULL || n != 0) {
		abort();
	}
	ts_arena_free(&arena);
	return 0;
}
