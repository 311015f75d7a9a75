#!/usr/bin/env python3
"""The OpenID Connect provider the single sign-on tests sign in with: a real one
(oidc-provider-mock from PyPI: discovery, JWKS, authorization code flow, RS256-signed ID
tokens), on this machine.

A test chooses who signs in and with what claims: `PUT /users/{sub}` with the claims as
JSON (e.g. {"email": "ana@example.com", "email_verified": true}), then posts `sub` to the
authorization URL Cairn redirected to; the provider redirects back with a code.

Usage: provider.py HOST PORT [--parent PID]
Prints "ready HOST:PORT" once it listens. With --parent it exits when that process has
(so a test binary that started it leaves nothing behind).
"""
import os
import sys
import threading
import time

# Plain http on this machine: the tests run no TLS.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import contextlib  # noqa: E402
import io  # noqa: E402

import werkzeug.serving  # noqa: E402

# The mock's imports warn about its dependencies' deprecations: not the tests' concern.
with contextlib.redirect_stderr(io.StringIO()):
    from oidc_provider_mock import app


class Quiet(werkzeug.serving.WSGIRequestHandler):
    """No line per request on the test run's output."""

    def log_request(self, *args, **kwargs):
        pass


def main():
    args = sys.argv[1:]
    parent = None
    if "--parent" in args:
        i = args.index("--parent")
        parent = int(args[i + 1])
        del args[i : i + 2]
    host, port = args[0], int(args[1])
    server = werkzeug.serving.make_server(
        host, port, app(), threaded=True, request_handler=Quiet
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ready {host}:{port}", flush=True)
    try:
        while True:
            time.sleep(0.5)
            if parent is not None and not os.path.exists(f"/proc/{parent}"):
                break
    except KeyboardInterrupt:
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
