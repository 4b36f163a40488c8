-- wrk script for bench/bookings.mjs: POST /api/v1/bookings with a random
-- instrument from [first, first + count) and a random 1-hour slot among
-- `slots` half-hour starts from `base` (UTC seconds).
-- Arguments (after --): cookie csrf first count base slots
-- The load generator shares the machine's two cores with the server, so it
-- does as little as it can: the slot times are formatted once, each request
-- is one string concatenation, and no Lua runs per response (bookings.mjs
-- counts the answers by status from the server's /metrics and the bookings
-- in the database file).
local first, count, base, slots, prefix
local isos = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local cookie, csrf = args[1], args[2]
  first, count, base, slots = tonumber(args[3]), tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  math.randomseed(os.time() * 100 + id)
  for s = 0, slots + 1 do isos[s] = os.date("!%Y-%m-%dT%H:%M:%S+08:00", base + 1800 * s + 8 * 3600) end
  prefix = "POST /api/v1/bookings HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
    "\r\nContent-Type: application/json\r\nCookie: " .. cookie .. "\r\nX-CSRF-Token: " .. csrf .. "\r\nContent-Length: "
end

function request()
  local s = math.random(0, slots - 1)
  local body = '{"instrument_id":' .. (first + math.random(0, count - 1)) .. ',"start":"' .. isos[s] ..
    '","end":"' .. isos[s + 2] .. '"}'
  return prefix .. #body .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d seconds=%.3f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.duration / 1e6, latency:percentile(99) / 1000))
end
