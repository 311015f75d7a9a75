"""A local OTLP/HTTP receiver for the traces test: accepts POST /v1/traces with the JSON
encoding (what Cairn sends) and prints one line per span received:

    span <name> <trace id> <parent span id or -> <attribute keys, comma-separated>

Usage: receiver.py HOST PORT [--parent PID]. Prints "ready HOST:PORT" once it listens;
with --parent it exits when that process has.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces" or "json" not in self.headers.get("Content-Type", ""):
            self.send_response(415)
            self.end_headers()
            return
        for resource in json.loads(body).get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    keys = ",".join(a["key"] for a in span.get("attributes", []))
                    parent = span.get("parentSpanId") or "-"
                    print(f"span {span['name']} {span['traceId']} {parent} {keys}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def main():
    args = sys.argv[1:]
    parent = None
    if "--parent" in args:
        i = args.index("--parent")
        parent = int(args[i + 1])
        del args[i : i + 2]
    host, port = args[0], int(args[1])
    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ready {host}:{port}", flush=True)
    while parent is None or os.path.exists(f"/proc/{parent}"):
        time.sleep(0.5)


if __name__ == "__main__":
    main()
