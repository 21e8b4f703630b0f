-- wrk script for bench/scim_bench.sh: GET /Users?filter=userName eq "..." for a
-- random one of the USERS loaded users (user%07d@bench.example).
--   wrk -s bench/scim_get.lua URL -- TOKEN USERS
local token, users
local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function init(args)
	token = args[1]
	users = tonumber(args[2])
	math.randomseed(os.time() * 100 + tid)
end

function request()
	local i = math.random(0, users - 1)
	local path = string.format(
		"/scim/v2/Users?filter=userName%%20eq%%20%%22user%07d%%40bench.example%%22", i)
	return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

done = function(summary, latency, requests)
	local errors = summary.errors.status + summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
		summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
		latency:percentile(99) / 1000, errors))
end
