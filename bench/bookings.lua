-- wrk script for bench/bookings.mjs: POST /api/v1/bookings with a random
-- instrument from [first, first + count) and a random 1-hour slot among
-- `slots` half-hour starts from `base` (UTC seconds); counts 201 / 409 / other.
-- Arguments (after --): cookie csrf first count base slots
local cookie, csrf, first, count, base, slots
created, conflicts, other = 0, 0, 0 -- globals: read by done() through thread:get
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  cookie, csrf = args[1], args[2]
  first, count, base, slots = tonumber(args[3]), tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  math.randomseed(os.time() * 100 + id)
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S+08:00", t + 8 * 3600)
end

function request()
  local inst = first + math.random(0, count - 1)
  local start = base + 1800 * math.random(0, slots - 1)
  local body = string.format('{"instrument_id":%d,"start":"%s","end":"%s"}', inst, iso(start), iso(start + 3600))
  return wrk.format("POST", "/api/v1/bookings",
    {["Content-Type"] = "application/json", ["Cookie"] = cookie, ["X-CSRF-Token"] = csrf}, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 409 then conflicts = conflicts + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, k, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); k = k + t:get("conflicts"); o = o + t:get("other")
  end
  io.write(string.format("RESULT created=%d conflicts=%d other=%d seconds=%.3f p99_ms=%.2f\n",
    c, k, o, summary.duration / 1e6, latency:percentile(99) / 1000))
end
