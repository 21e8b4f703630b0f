-- wrk script for the authenticated GetAccount benchmark (bench/run.sh).
-- The token and account id come from the environment so that nothing
-- secret or run-specific is written into this file:
--   TESSERA_TOKEN       admin key token printed by `tessera init --json`
--   TESSERA_ACCOUNT_ID  account printed by `tessera account create --json`
local token = os.getenv("TESSERA_TOKEN")
local account = os.getenv("TESSERA_ACCOUNT_ID")
if token == nil or account == nil then
	io.stderr:write("getaccount.lua: set TESSERA_TOKEN and TESSERA_ACCOUNT_ID\n")
	os.exit(2)
end

wrk.method = "GET"
wrk.path = "/api/v1/accounts/" .. account
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"
