-- wrk script: POST /v1/spawn with the contract's example body and a fresh Idempotency-Key per
-- request (each one writes a new key record: the cost of the feature, not of a replay).
--
--   wrk -t<threads> ... -s spawn-idempotent.lua URL -- <max requests/s of the run> <seconds> <threads>
--
-- The requests are built before wrk's clock starts, so wrk spends on a keyed request what it
-- spends on a plain one (spawn.lua: one prepared request), and the bench measures the key's cost
-- to the gateway and Redis, not Lua string building in the load generator (1.6–2 µs of wrk CPU
-- per request, built by `wrk.format` in `request()`: a tenth of what a spawn costs the whole
-- saturated 2-core box). Each thread's `init()` builds a pool of complete requests, each with
-- its own key, and `request()` hands them out in order, building nothing. The pool holds
-- <max rate> × <seconds> ÷ <threads> requests plus a tenth, so a run never reaches its end; if
-- one does (a bound set too low), `request()` builds the rest one at a time, and `done()` says
-- so: a key is never reused within a run, since a replay is cheaper than a first write and
-- would flatter the figure. Keys differ across runs too (a random prefix per run, then the
-- thread's number and a counter). Memory: ~300 bytes a request, so bench/spawn's bound of
-- 100,000 req/s for 8 s is ~130 MB per thread of -t2, built in ~0.3 s each.
--
-- wrk starts a thread as soon as that thread's `init()` is done and then runs the next thread's
-- `init()` while the first is already sending; its clock starts once every thread has started.
-- A first thread's requests during a second thread's build would count without their time (it
-- made 159,795 requests "in 1.10 s" of a -d1s run against nginx, 2.4× its rate), so no thread
-- sends before every pool is built: each `init()` leaves a marker file, and a thread's first
-- `request()` that sends waits for all of them (1 ms sleeps; it starts at most ~1 ms late).
--
-- Without arguments (bench/instructions' short windows) the pool is 20,000 requests a thread
-- and the rest is built on the fly.
local ffi = require("ffi")
ffi.cdef("int usleep(unsigned int usec);")
local newTable = require("table.new")

local body = '{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}'
local defaultPoolSize = 20000

local function markerPath(number)
  return "/tmp/wrk-keyed-" .. runId .. "-" .. number .. ".ready"
end

-- The main state: setup() runs once per thread, before that thread's init(); done() after the run.

local threads = {}

function setup(thread)
  if not runId then
    local urandom = assert(io.open("/dev/urandom", "rb"))
    local bytes = urandom:read(6)
    urandom:close()
    runId = bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  end
  threads[#threads + 1] = thread
  thread:set("runId", runId)
  thread:set("threadNumber", #threads)
end

function done(summary, latency, requests)
  for number, thread in ipairs(threads) do
    os.remove(markerPath(number))
    local extra = thread:get("builtOnTheFly")
    if extra > 0 then
      io.write(string.format("keyed pool exhausted: thread %d built %d requests on the fly\n", number, extra))
    end
  end
end

-- Each thread's own state.

local head, tail -- everything of a request but the key's counter
local pool, poolSize
local threadCount
local sent = 0
builtOnTheFly = 0

local function build(n)
  return head .. n .. tail
end

function init(args)
  local rate, seconds = tonumber(args[1]), tonumber(args[2])
  threadCount = tonumber(args[3]) or 1
  head = "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"]
    .. "\r\nContent-Type: application/json\r\nContent-Length: " .. #body
    .. "\r\nIdempotency-Key: k" .. runId .. "-" .. threadNumber .. "-"
  tail = "\r\n\r\n" .. body
  poolSize = (rate and seconds) and math.ceil(rate * seconds / threadCount * 1.1) or defaultPoolSize
  -- The collector paused while building: it would re-mark the growing pool over and over (the
  -- build took twice as long with it running).
  collectgarbage("stop")
  pool = newTable(poolSize, 0)
  for n = 1, poolSize do
    pool[n] = build(n)
  end
  collectgarbage("restart")
  -- Its work on the build done now, not in the clock.
  collectgarbage("collect")
  local marker = assert(io.open(markerPath(threadNumber), "w"))
  marker:close()
end

local function waitForEveryPool()
  for number = 1, threadCount do
    local marker = io.open(markerPath(number), "r")
    while not marker do
      ffi.C.usleep(1000)
      marker = io.open(markerPath(number), "r")
    end
    marker:close()
  end
end

-- wrk calls the first thread's request() once in its main thread, before starting any thread, to
-- check that it parses (`script_verify_request`): that call must not wait, and its key is never sent.
local waited = false

function request()
  if not waited and (sent > 0 or threadNumber > 1) then
    waitForEveryPool()
    waited = true
  end
  sent = sent + 1
  local ready = pool[sent]
  if ready then
    return ready
  end
  builtOnTheFly = sent - poolSize
  return build(sent)
end
