"""Verifies a Stripe-Signature header with Stripe's own library (the `stripe` package
from PyPI, installed by scripts/test into target/python).

usage: verify.py SECRET HEADER < body
Prints "ok <event id>" and exits 0 when stripe.Webhook.construct_event accepts the
header for the body; prints "refused <reason>" and exits 1 when it does not.
"""
import sys

import stripe


def main() -> int:
    secret, header = sys.argv[1], sys.argv[2]
    payload = sys.stdin.buffer.read().decode("utf-8")
    try:
        event = stripe.Webhook.construct_event(payload, header, secret)
    except stripe.SignatureVerificationError as e:
        print(f"refused {e}")
        return 1
    print(f"ok {event['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
