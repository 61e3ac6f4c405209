"""A Hugging Face Hub on loopback for the download benchmark: serves one repository from a folder the
way huggingface.co answers (HEAD/GET /{repo}/resolve/{rev}/{file} with X-Repo-Commit and ETag = git blob
id for small files; LFS files (>= 1 MB) answer 302 to /lfs/{sha256} with X-Linked-Etag/X-Linked-Size;
Range requests honoured). Usage: python fake_hub.py FOLDER REPO PORT_FILE"""
import hashlib, http.server, os, socketserver, sys

folder, repo, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
COMMIT = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
files, meta = {}, {}
for root, _, names in os.walk(folder):
    for n in names:
        path = os.path.join(root, n)
        rel = os.path.relpath(path, folder)
        data = open(path, "rb").read()
        files[rel] = data
        lfs = len(data) >= 1 << 20
        etag = hashlib.sha256(data).hexdigest() if lfs else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        meta[rel] = (lfs, etag)
by_sha = {meta[k][1]: k for k in files if meta[k][0]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body_wanted):
        path = self.path.split("?")[0]
        if path.startswith("/lfs/"):
            name = by_sha.get(path[5:])
            return self.body(name, body_wanted) if name else self.status(404)
        prefix = f"/{repo}/resolve/"
        if not path.startswith(prefix):
            return self.status(404, {"X-Error-Code": "RepoNotFound"})
        rest = path[len(prefix):]
        _, _, name = rest.partition("/")
        if name not in files:
            return self.status(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT})
        lfs, etag = meta[name]
        if lfs:
            return self.status(302, {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"', "X-Linked-Etag": f'"{etag}"',
                                     "X-Linked-Size": str(len(files[name])),
                                     # storage on another host name, as the Hub's CDN is
                                     "Location": f"http://localhost:{self.server.server_address[1]}/lfs/{etag}"})
        self.body(name, body_wanted, {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"'})

    def status(self, code, headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def body(self, name, body_wanted, headers=None):
        data = files[name]
        start, code = 0, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0] or 0)
            code = 206
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if body_wanted:
            self.wfile.write(data[start:])

    def do_HEAD(self):
        self.answer(False)

    def do_GET(self):
        self.answer(True)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
