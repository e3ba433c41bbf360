#!/usr/bin/env python3
"""Sends a redis-server the spawn appends the gateway sends, for bench/script-instructions.

  append-driver.py PORT plain APPENDS DEPTH
  append-driver.py PORT keyed APPENDS PER_CALL SCRIPT_FILE

plain: the gateway's XADD of the contract's example spawn, DEPTH commands written at a time.
keyed: EVALSHA of the idempotent-append script (loaded from SCRIPT_FILE), PER_CALL appends of
one biome per call, each with a fresh key, in the argument layout of IdempotentAppendCall
(Sources/BusStreams/Scripts/IdempotentAppend.swift; keep the two in step). Every reply is read
before the next write, and an error reply fails the run.
"""
import socket
import sys
import time

PORT, MODE, APPENDS = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
BIOME, STREAM, STATS = 53, "EVSTREAM:53", "EVIDEMSTAT:53"
FINGERPRINT = "53\nchest\n[1.5,2,3.25]\nc-9"
TTL, MAXLEN, OVERHEAD = 120, 5000, 80


def encode(words):
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = str(word).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def reply(self):
        while True:
            parsed = self.parse(0)
            if parsed is not None:
                value, end = parsed
                self.buffer = self.buffer[end:]
                if isinstance(value, Exception):
                    sys.exit("append-driver: Redis answered %s" % value)
                return value
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                sys.exit("append-driver: Redis closed the connection")
            self.buffer += chunk

    def parse(self, start):
        line_end = self.buffer.find(b"\r\n", start)
        if line_end < 0:
            return None
        kind, line = self.buffer[start:start + 1], self.buffer[start + 1:line_end]
        if kind == b"-":
            return Exception(line.decode()), line_end + 2
        if kind in (b"+", b":"):
            return line, line_end + 2
        if kind == b"$":
            length = int(line)
            if length < 0:
                return None, line_end + 2
            if len(self.buffer) < line_end + 4 + length:
                return None
            return self.buffer[line_end + 2:line_end + 2 + length], line_end + 4 + length
        if kind == b"*":
            items, position = [], line_end + 2
            for _ in range(int(line)):
                parsed = self.parse(position)
                if parsed is None:
                    return None
                item, position = parsed
                items.append(item)
            return items, position
        sys.exit("append-driver: unexpected reply %r" % self.buffer[start:start + 40])

    def run(self, commands):
        self.sock.sendall(b"".join(commands))
        for _ in commands:
            self.reply()


connection = Connection(PORT)
now_ms = int(time.time() * 1000)
prefix = "k%d-" % now_ms

if MODE == "plain":
    depth = int(sys.argv[4])
    for start in range(0, APPENDS, depth):
        connection.run([
            encode(["XADD", STREAM, "MAXLEN", "~", MAXLEN, "*", "type", "chest", "coords", "[1.5,2,3.25]",
                    "chest_id", "c-9", "ts", now_ms + n])
            for n in range(start, min(start + depth, APPENDS))
        ])
elif MODE == "keyed":
    per_call = int(sys.argv[4])
    with open(sys.argv[5]) as source:
        connection.sock.sendall(encode(["SCRIPT", "LOAD", source.read()]))
    sha = connection.reply().decode()
    bucket_seconds = (TTL + 15) // 16
    bucket = now_ms // 1000 // bucket_seconds
    oldest = (now_ms // 1000 - TTL) // bucket_seconds
    expiry = (bucket + 1) * bucket_seconds + TTL
    for start in range(0, APPENDS, per_call):
        count = min(per_call, APPENDS - start)
        keys = [STREAM, STATS] + ["EVIDEM:%d:_:%s%d" % (BIOME, prefix, n) for n in range(start, start + count)]
        arguments = [TTL, MAXLEN, bucket, oldest, expiry, OVERHEAD, count, ""]
        for n in range(start, start + count):
            arguments += [FINGERPRINT, "c-9", "chest", "[1.5,2,3.25]", now_ms + n]
        connection.run([encode(["EVALSHA", sha, len(keys)] + keys + arguments)])
else:
    sys.exit("append-driver: mode is plain or keyed")
