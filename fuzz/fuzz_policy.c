/*
 * libFuzzer target for the admin policy parser: arbitrary bytes as policy
 * text (an admin key's Policies, as the API and the CLI take them). Whatever
 * parses is evaluated, so the compiled form is exercised too; a crash, a
 * sanitizer report or a leak is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "admin/policy.h"
#include "core/alloc.h"

static const char *const probes[][2] = {
        {"tessera:GetAccount", "arn:tessera:::account/A"},
        {"tessera:ListAccounts", NULL},
        {"TESSERA:deleteaccount", "arn:tessera:::account/B"},
        {"tessera:CreateAdminKey", "*"},
        {"", ""},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = ts_malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	ts_policy_set_t *p = NULL;
	struct ts_error e = {0};
	if (ts_admin_policy_parse_text(text, &p, &e) == TS_ERR_OK) {
		for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
			(void)ts_admin_policy_evaluate(p, probes[i][0], probes[i][1]);
			(void)ts_admin_policy_allows_some(p, probes[i][0]);
		}
		/* the text itself as action and resource: long and odd subjects */
		(void)ts_admin_policy_evaluate(p, text, text);
	}
	ts_admin_policy_free(&p);
	ts_free(text);
	return 0;
}
