/*
 * tessera: one binary for the server and the offline commands.
 * `tessera <noun> <verb> [--flags]`, or `tessera serve|init [--flags]`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/crypto.h"

static int usage(void)
{
	fputs("usage: tessera <command> [options]\n"
	      "  serve                      run the server\n"
	      "  init                       create or migrate the store, print a first admin key\n"
	      "  login --start-url URL [--profile NAME]  sign the command line in (device code)\n"
	      "  credentials [--profile NAME]  short-lived credentials as JSON "
	      "(credential_process)\n"
	      "  account create|list        manage accounts offline\n"
	      "  adminkey create|list|delete  manage admin keys offline\n"
	      "  apikey create|list|delete  manage SCIM API keys offline (--account ID)\n"
	      "  audit verify               check the audit chain\n"
	      "  masterkey rotate --new-master-key-file F  re-seal everything under a new master "
	      "key\n"
	      "  user list|get|suspend|activate|logout --account ID [--id U]  users offline\n"
	      "  saml configure --account ID --idp-metadata FILE|URL  an account's SAML IdP\n"
	      "  oidc configure --account ID --issuer URL --client-id ID --client-secret-file F\n"
	      "                             an account's OpenID provider\n"
	      "  target|permission-set|assignment create|list|delete --account ID\n"
	      "                             access after sign-in offline\n"
	      "Every command takes --help.\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (ts_crypto_init() != TS_ERR_OK) {
		fputs("tessera: cannot initialise libsodium\n", stderr);
		return 1;
	}
	if (argc < 2)
		return usage();
	const char *noun = argv[1];
	if (strcmp(noun, "serve") == 0)
		return ts_cli_serve(argc - 2, argv + 2);
	if (strcmp(noun, "init") == 0)
		return ts_cli_init(argc - 2, argv + 2);
	if (strcmp(noun, "login") == 0)
		return ts_cli_login(argc - 2, argv + 2);
	if (strcmp(noun, "credentials") == 0)
		return ts_cli_credentials(argc - 2, argv + 2);
	if (strcmp(noun, "--help") == 0 || strcmp(noun, "help") == 0)
		return usage(), 0;
	if (argc < 3)
		return usage();
	const char *verb = argv[2];
	if (strcmp(noun, "account") == 0)
		return ts_cli_account(verb, argc - 3, argv + 3);
	if (strcmp(noun, "adminkey") == 0)
		return ts_cli_adminkey(verb, argc - 3, argv + 3);
	if (strcmp(noun, "apikey") == 0)
		return ts_cli_apikey(verb, argc - 3, argv + 3);
	if (strcmp(noun, "audit") == 0)
		return ts_cli_audit(verb, argc - 3, argv + 3);
	if (strcmp(noun, "masterkey") == 0)
		return ts_cli_masterkey(verb, argc - 3, argv + 3);
	if (strcmp(noun, "user") == 0)
		return ts_cli_user(verb, argc - 3, argv + 3);
	if (strcmp(noun, "saml") == 0)
		return ts_cli_saml(verb, argc - 3, argv + 3);
	if (strcmp(noun, "oidc") == 0)
		return ts_cli_oidc(verb, argc - 3, argv + 3);
	if (strcmp(noun, "target") == 0)
		return ts_cli_target(verb, argc - 3, argv + 3);
	if (strcmp(noun, "permission-set") == 0)
		return ts_cli_permission_set(verb, argc - 3, argv + 3);
	if (strcmp(noun, "assignment") == 0)
		return ts_cli_assignment(verb, argc - 3, argv + 3);
	return usage();
}
