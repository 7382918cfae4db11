#!/usr/bin/env python3
"""Serves the built site (dist/) and an atlas folder at /atlas/, with the single-page-app
fallback (unknown paths get index.html), for measuring the viewer (Lighthouse) by hand.
Text, JSON, JavaScript and wasm go out gzip-compressed when the browser accepts it, as static
hosts such as GitHub Pages send them.

    scripts/serve-with-atlas.py [ATLAS_DIR] [PORT]

ATLAS_DIR defaults to the frozen fixture core/tests/fixtures/atlas/v1.0; PORT to 8099.
"""
import gzip
import io
import http.server
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(ROOT, "dist")
ATLAS = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "core/tests/fixtures/atlas/v1.0")
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8099
COMPRESSED = {}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm", ".webp": "image/webp", ".json": "application/json"}

    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/atlas/"):
            return os.path.join(ATLAS, os.path.normpath(path[len("/atlas/"):]).lstrip("./"))
        local = os.path.join(DIST, os.path.normpath(path).lstrip("/"))
        if path != "/" and not os.path.isfile(local):
            return os.path.join(DIST, "index.html")
        return local

    def send_head(self):
        path = self.translate_path(self.path)
        compressible = os.path.splitext(path)[1] in (".html", ".css", ".js", ".json", ".wasm", ".svg")
        if not compressible or "gzip" not in self.headers.get("Accept-Encoding", "") or not os.path.isfile(path):
            return super().send_head()
        key = (path, os.path.getmtime(path))
        body = COMPRESSED.get(key)
        if body is None:
            with open(path, "rb") as f:
                body = COMPRESSED[key] = gzip.compress(f.read(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
