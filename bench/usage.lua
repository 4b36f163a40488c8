-- wrk script for bench/usage.mjs: POST /api/v1/usage, each request a new
-- half-hour use in the past, spread over `count` instruments from `first`,
-- never overlapping another (every thread walks its own sequence of slots).
-- Counts 201 / other. Arguments (after --): cookie csrf first count base user threads
local cookie, csrf, first, count, base, user, nthreads
local n = 0
created, other = 0, 0 -- globals: read by done() through thread:get
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  cookie, csrf = args[1], args[2]
  first, count, base, user, nthreads = tonumber(args[3]), tonumber(args[4]), tonumber(args[5]), tonumber(args[6]), tonumber(args[7])
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S+08:00", t + 8 * 3600)
end

function request()
  local k = n * nthreads + id
  n = n + 1
  local inst = first + k % count
  local start = base - 3600 * math.floor(k / count)
  local body = string.format('{"instrument_id":%d,"user_id":%d,"start":"%s","end":"%s"}',
    inst, user, iso(start), iso(start + 1800))
  return wrk.format("POST", "/api/v1/usage",
    {["Content-Type"] = "application/json", ["Cookie"] = cookie, ["X-CSRF-Token"] = csrf}, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); o = o + t:get("other")
  end
  io.write(string.format("RESULT created=%d other=%d seconds=%.3f p99_ms=%.2f\n",
    c, o, summary.duration / 1e6, latency:percentile(99) / 1000))
end
