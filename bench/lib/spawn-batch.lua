-- wrk script: POST /v1/spawn/batch with 100 copies of the contract's example spawn (no keys),
-- as a game server spawning a wave would send it. Events per second = requests/s × 100.
local events = {}
for i = 1, 100 do
  events[i] = '{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-' .. i .. '"}'
end
wrk.method = "POST"
wrk.body = '{"events": [' .. table.concat(events, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json"
