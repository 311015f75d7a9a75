#!/usr/bin/env python3
"""The SMTP server the email tests talk to: a real one (aiosmtpd), which saves every
message it accepts as a .eml file in a directory, with the envelope first:

    X-Envelope-From: sender@example.com
    X-Envelope-To: a@example.com, b@example.com
    <the message as received>

Usage: server.py HOST PORT MAILDIR [--parent PID] [--starttls CERT KEY | --tls CERT KEY]
Prints "ready HOST:PORT" once it listens. With --parent it exits when that process has
(so a test binary that started it leaves nothing behind). --starttls offers STARTTLS
with that certificate and refuses mail before it; --tls speaks TLS from the first byte
(smtps).
"""
import asyncio
import os
import ssl
import sys
import time
import uuid

from aiosmtpd.controller import Controller


class Saver:
    def __init__(self, maildir):
        self.maildir = maildir

    async def handle_DATA(self, server, session, envelope):
        head = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        body = envelope.original_content or envelope.content
        if isinstance(body, str):
            body = body.encode()
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        tmp = os.path.join(self.maildir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head + body)
        # A rename: readers never see half a message.
        os.rename(tmp, os.path.join(self.maildir, name))
        return "250 OK saved as " + name


def main():
    args = sys.argv[1:]
    parent = None
    if "--parent" in args:
        i = args.index("--parent")
        parent = int(args[i + 1])
        del args[i : i + 2]
    options = {}
    for flag in ("--starttls", "--tls"):
        if flag in args:
            i = args.index(flag)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(args[i + 1], args[i + 2])
            del args[i : i + 3]
            if flag == "--starttls":
                options = {"tls_context": context, "require_starttls": True}
            else:
                options = {"ssl_context": context}
    host, port, maildir = args[0], int(args[1]), args[2]
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Saver(maildir), hostname=host, port=port, **options)
    controller.start()
    print(f"ready {host}:{port}", flush=True)
    try:
        while True:
            time.sleep(0.5)
            if parent is not None and not os.path.exists(f"/proc/{parent}"):
                break
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
