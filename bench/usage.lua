-- wrk script for bench/usage.mjs: POST /api/v1/usage, each request a new
-- half-hour use in the past, spread over `count` instruments from `first`,
-- never overlapping another (every thread walks its own sequence of slots).
-- Arguments (after --): cookie csrf first count base user threads
-- As bench/bookings.lua: the times are formatted once per hour (memoised),
-- each request is one concatenation, and no Lua runs per response (usage.mjs
-- counts the answers from the server's /metrics and the new records in the
-- database file).
local first, count, base, user, nthreads, prefix
local n = 0
local isos = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local cookie, csrf = args[1], args[2]
  first, count, base, user, nthreads = tonumber(args[3]), tonumber(args[4]), tonumber(args[5]), tonumber(args[6]), tonumber(args[7])
  prefix = "POST /api/v1/usage HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
    "\r\nContent-Type: application/json\r\nCookie: " .. cookie .. "\r\nX-CSRF-Token: " .. csrf .. "\r\nContent-Length: "
end

local function iso(t)
  local s = isos[t]
  if not s then
    s = os.date("!%Y-%m-%dT%H:%M:%S+08:00", t + 8 * 3600)
    isos[t] = s
  end
  return s
end

function request()
  local k = n * nthreads + id
  n = n + 1
  local start = base - 3600 * math.floor(k / count)
  local body = '{"instrument_id":' .. (first + k % count) .. ',"user_id":' .. user .. ',"start":"' .. iso(start) ..
    '","end":"' .. iso(start + 1800) .. '"}'
  return prefix .. #body .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d seconds=%.3f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.duration / 1e6, latency:percentile(99) / 1000))
end
