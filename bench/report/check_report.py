#!/usr/bin/env python3
"""Renders an HTML report in headless Chromium as a person would see it.

Talks the DevTools protocol over --remote-debugging-pipe (fds 3 and 4), so only
the standard library is needed. Checks that the page loads, that nothing was
logged as an error (console errors, exceptions, blocked or failed loads), and
that every SVG chart has drawn content; then writes a full-page PNG.

usage: check_report.py REPORT.html OUT.png [--min-svgs N] [--min-images N]
  --min-images: thumbnails of mistakes that must have loaded (image reports)
exit 0 when every check passes; prints one JSON summary line.
"""
import base64, json, os, select, shutil, subprocess, sys, tempfile, time

MEASURE = r"""
(() => {
  const svgs = [...document.querySelectorAll('svg')].map(s => {
    const b = s.getBoundingClientRect();
    const shapes = s.querySelectorAll('rect, polyline, circle, line, path').length;
    let box = {width: 0, height: 0};
    try { const bb = s.getBBox(); box = {width: bb.width, height: bb.height}; } catch (e) {}
    return {cls: s.getAttribute('class'), width: b.width, height: b.height, shapes, drawn: box};
  });
  const imgs = [...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth}));
  return {title: document.title, ready: document.readyState, svgs, imgs,
          classRows: document.querySelectorAll('tr.class-row').length,
          height: Math.ceil(document.documentElement.scrollHeight)};
})()
"""


class Chromium:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="graft-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def wire():  # the child sees the pipes as fds 3 (commands) and 4 (replies), open across exec
            a, b = os.dup(to_child_r), os.dup(from_child_w)  # copies first: a pipe may already sit on fd 3 or 4
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self.dir}", "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr.log"), "w"))
        os.close(to_child_r); os.close(from_child_w)
        self.next_id = 0
        self.buffer = b""
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_child], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def wait(self, match, timeout=30):
        """The first message (already seen or new) that `match`es; others are kept as events."""
        for i, m in enumerate(self.events):
            if match(m):
                return self.events.pop(i)
        deadline = time.time() + timeout
        while True:
            m = self.read_message(deadline)
            if match(m):
                if "error" in m:
                    raise RuntimeError(f"DevTools error: {m['error']}")
                return m
            self.events.append(m)

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if os.environ.get("GRAFT_CHECK_KEEP"): print("chromium log:", self.dir, file=sys.stderr)
        else: shutil.rmtree(self.dir, ignore_errors=True)


def check(path, out_png, min_svgs, min_images=0):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        sys.exit("chromium not found: apt-get install chromium")
    b = Chromium(binary)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["result"]["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            b.send(f"{domain}.enable", session=session)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        b.send("Page.navigate", {"url": "file://" + os.path.abspath(path)}, session=session)
        b.wait(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == session)
        time.sleep(0.3)  # let late log entries arrive
        measured = b.send("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True},
                          session=session)["result"]["result"]["value"]
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": min(measured["height"], 16000), "deviceScaleFactor": 1, "mobile": False},
               session=session)
        shot = b.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        with open(out_png, "wb") as f:
            f.write(base64.b64decode(shot["result"]["data"]))
        # Drain anything logged meanwhile.
        try:
            b.wait(lambda m: False, timeout=0.2)
        except TimeoutError:
            pass
    finally:
        b.close()

    errors = []
    for e in b.events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append("exception: " + p.get("exceptionDetails", {}).get("text", ""))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append("log: " + p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
    problems = list(errors)
    if measured["ready"] != "complete":
        problems.append(f"document not loaded: {measured['ready']}")
    if len(measured["svgs"]) < min_svgs:
        problems.append(f"{len(measured['svgs'])} SVG charts, expected at least {min_svgs}")
    for i, s in enumerate(measured["svgs"]):
        if s["width"] <= 0 or s["height"] <= 0 or s["shapes"] == 0 or s["drawn"]["width"] <= 0 or s["drawn"]["height"] <= 0:
            problems.append(f"SVG {i} ({s['cls']}) is empty: {s}")
    for i, im in enumerate(measured["imgs"]):
        if not im["ok"]:
            problems.append(f"image {i} did not load")
    if sum(1 for im in measured["imgs"] if im["ok"]) < min_images:
        problems.append(f"{len(measured['imgs'])} thumbnails, expected at least {min_images}")
    summary = {"report": path, "png": out_png, "title": measured["title"], "svgs": len(measured["svgs"]),
               "shapes": sum(s["shapes"] for s in measured["svgs"]), "images": len(measured["imgs"]),
               "classRows": measured["classRows"], "height": measured["height"], "errors": errors, "problems": problems}
    print(json.dumps(summary))
    return not problems


if __name__ == "__main__":
    args = sys.argv[1:]
    min_svgs = 1
    if "--min-svgs" in args:
        i = args.index("--min-svgs"); min_svgs = int(args[i + 1]); del args[i:i + 2]
    min_images = 0
    if "--min-images" in args:
        i = args.index("--min-images"); min_images = int(args[i + 1]); del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    sys.exit(0 if check(args[0], args[1], min_svgs, min_images) else 1)
