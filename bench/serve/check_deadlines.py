#!/usr/bin/env python3
"""Probes a running `graft serve` (image bundle) for the two issue-15 serve failures,
standard library only:

  decode   N concurrent oversized-but-allowed PNGs (5000x4000, ~100 KB each): every answer
           must come within the decode limit (plus transfer); prints statuses and latencies.
  trickle  a client trickling a request body one byte every 100 ms, then SIGTERM to PID:
           prints how long the server took to exit.
  slow     IDLE idle connections and SLOW slow-header connections: prints how many the
           server has closed after WAIT seconds.

usage: check_deadlines.py decode PORT [N] | trickle PORT PID | slow PORT [IDLE SLOW WAIT]
"""
import http.client, os, random, signal, socket, struct, sys, threading, time, zlib


def png(width, height):
    base = bytes((x * 7) & 255 for x in range(3 * width))
    rows = b"".join(b"\x00" + base for _ in range(height))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def decode(port, n=12):
    body = png(5000, 4000)
    results = []
    def one():
        t = time.time()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("POST", "/v1/predict", body=body, headers={"Content-Type": "image/png"})
        r = c.getresponse(); r.read()
        results.append((r.status, time.time() - t))
    threads = [threading.Thread(target=one) for _ in range(n)]
    [t.start() for t in threads]; [t.join() for t in threads]
    lat = sorted(s for _, s in results)
    print(f"{n} concurrent {len(body)}-byte 5000x4000 PNGs: statuses {sorted(st for st, _ in results)}; "
          f"latency min {lat[0]:.2f} s, median {lat[len(lat) // 2]:.2f} s, max {lat[-1]:.2f} s")


def trickle(port, pid):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n")
    stop = []
    def drip():
        while not stop:
            try: s.sendall(b"x")
            except OSError: return
            time.sleep(0.1)
    threading.Thread(target=drip, daemon=True).start()
    time.sleep(0.5)
    t = time.time()
    os.kill(pid, signal.SIGTERM)
    while time.time() - t < 60:
        try:
            if open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z": break  # exited, not reaped yet
        except FileNotFoundError: break
        time.sleep(0.05)
    else:
        print("server still running 60 s after SIGTERM with a trickling client"); stop.append(1); return
    stop.append(1)
    print(f"server exited {time.time() - t:.2f} s after SIGTERM with a trickling client")


def slow(port, idle=200, slow_headers=50, wait=15):
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle)]
    slows = [socket.create_connection(("127.0.0.1", port)) for _ in range(slow_headers)]
    for s in slows: s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n")
    time.sleep(wait)
    def closed(s):
        s.setblocking(False)
        try: return s.recv(1) == b""
        except BlockingIOError: return False
        except OSError: return True
    print(f"after {wait} s: {sum(map(closed, conns))} of {idle} idle and {sum(map(closed, slows))} of {slow_headers} slow-header connections closed by the server")


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    rest = [int(x) for x in sys.argv[3:]]
    {"decode": decode, "trickle": trickle, "slow": slow}[what](port, *rest)
