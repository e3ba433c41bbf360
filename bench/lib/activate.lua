-- wrk script: POST /v1/treasure/53/chests/a-<id>/activate with If-Match: "1", a fresh chest for
-- every request, as bench/activate seeded them (chest ids a-1 … a-N, all spawned, version 1).
--
-- Arguments after `--`: BASE LAST THREADS (wrk's -t) [TOKEN PLAYER]: with a TOKEN, every request
-- carries it as a bearer token and the body names PLAYER (the token's subject). Thread t of T (t = 0 … T-1) sends its k-th request (k = 1, 2,
-- …) for chest a-(BASE + (k - 1) * T + t + 1): the threads interleave over BASE+1 … and no id
-- repeats across threads. Each measured run gets its own range from bench/activate, so no id
-- repeats across runs either. Past LAST the script asks for a chest that does not exist
-- (a-0, a 404), so running out of seeded chests shows up as non-2xx instead of passing unnoticed.
--
-- The body carries a player id so that the UPDATE writes activated_by, as pgbench's does.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  base = tonumber(args[1])
  last = tonumber(args[2])
  stride = tonumber(args[3])
  counter = 0
  headers = { ["If-Match"] = '"1"', ["Content-Type"] = "application/json" }
  body = '{"player_id": "p-' .. tid .. '"}'
  if args[4] ~= nil and args[4] ~= "" then
    headers["Authorization"] = "Bearer " .. args[4]
    body = '{"player_id": "' .. args[5] .. '"}'
  end
end

function request()
  local id = base + counter * stride + tid + 1
  counter = counter + 1
  if id > last then id = 0 end
  return wrk.format("POST", "/v1/treasure/53/chests/a-" .. id .. "/activate", headers, body)
end
