-- wrk script: POST /v1/spawn with the contract's example body and a fresh Idempotency-Key per
-- request (each one writes a new key record: the cost of the feature, not of a replay).
local threads = 0

-- Runs in the main state, once per thread: a prefix of its own (a global of the thread's state).
function setup(thread)
  threads = threads + 1
  thread:set("prefix", "t" .. threads .. "-" .. os.time() .. "-")
end

local sent = 0
function request()
  sent = sent + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. sent,
  }, '{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}')
end
