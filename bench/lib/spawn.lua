-- wrk script: POST /v1/spawn with the contract's example body, as a game server would send it.
-- The same request goes to nginx (`return 202`), so both pay for reading an 84-byte body.
wrk.method = "POST"
wrk.body = '{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}'
wrk.headers["Content-Type"] = "application/json"
