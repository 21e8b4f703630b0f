-- wrk script for bench/scim_bench.sh: POST /Users, each request a new userName.
--   wrk -s bench/scim_post.lua URL -- TOKEN PREFIX
-- PREFIX keeps runs against one store apart; each wrk thread adds its number.
local counter = 0
local token, prefix
local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function init(args)
	token = args[1]
	prefix = (args[2] or "p") .. "-" .. tostring(tid)
end

function request()
	counter = counter + 1
	local name = string.format("%s-%d@post.example", prefix, counter)
	local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name
		.. '","name":{"givenName":"Post","familyName":"Bench"},"emails":[{"value":"' .. name
		.. '","type":"work","primary":true}]}'
	return wrk.format("POST", "/scim/v2/Users",
		{ ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/scim+json" }, body)
end

done = function(summary, latency, requests)
	local errors = summary.errors.status + summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
		summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
		latency:percentile(99) / 1000, errors))
end
