#!/usr/bin/env python3
"""Paced load for bench/consume: POST /v1/spawn at a fixed rate, open-loop, keep-alive.

Usage: paced_spawns.py PORT RATE SECONDS THREADS OUT.csv

Spawn i (i = 0, 1, …) is due at start + i / RATE and is sent by thread i mod THREADS over that
thread's own keep-alive connection, with chest id e-<i, 8 digits> (increasing, unique) in biome
1 + i mod 4. A thread that falls behind sends at once (it never skips), and the lateness is
reported. For every spawn OUT.csv gets: chest_id, sent_ms, ack_ms, status, where the times are
wall-clock Unix milliseconds (time.time(), the clock Postgres's timestamps use too) taken just
before the request is written and just after the whole response has been read.
"""

import http.client
import json
import sys
import threading
import time


def main():
    port, rate, seconds, threads = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    out_path = sys.argv[5]
    total = int(rate * seconds)
    results = [None] * total
    lateness = [0.0] * threads
    errors = []
    start = time.time() + 0.2  # every thread is up before the first spawn is due

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Content-Type": "application/json"}
        for i in range(k, total, threads):
            due = start + i / rate
            now = time.time()
            if due > now:
                time.sleep(due - now)
            else:
                lateness[k] = max(lateness[k], now - due)
            chest = "e-%08d" % i
            body = json.dumps({"biome_id": 1 + i % 4, "type": "chest", "coords": [1.5, 2], "chest_id": chest})
            sent = time.time()
            try:
                conn.request("POST", "/v1/spawn", body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                errors.append(f"{chest}: {error!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            ack = time.time()
            results[i] = (chest, sent * 1000.0, ack * 1000.0, status)
        conn.close()

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    finished = time.time()

    with open(out_path, "w") as out:
        for chest, sent, ack, status in results:
            out.write(f"{chest},{sent:.3f},{ack:.3f},{status}\n")
    ok = sum(1 for r in results if r[3] == 202)
    elapsed = finished - start
    summary = {
        "spawns": total,
        "accepted": ok,
        "other": total - ok,
        "seconds": round(elapsed, 3),
        "achieved_rate": round(total / elapsed, 1),
        "max_lateness_ms": round(max(lateness) * 1000.0, 1),
        "errors": errors[:5],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
