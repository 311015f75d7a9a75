"""Writes signed Stripe `invoice.paid` events for the bench's Stripe case, one per line:
`<Stripe-Signature>\t<body>`. wrk's LuaJIT has no HMAC, so they are signed here, just
before the case (the signature's timestamp must be within Stripe's five minutes).

usage: stripe_events.py SECRET COUNT OUT
About 10 % of the lines repeat an earlier event (same id, as Stripe's retries do); the
rest are new events of 1 000 customers.
"""
import hashlib
import hmac
import json
import random
import sys
import time


def main() -> None:
    secret, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(14)
    t = int(time.time())
    made = []
    with open(out, "w") as f:
        for i in range(count):
            if made and rng.random() < 0.10:
                body = rng.choice(made)
            else:
                c = rng.randrange(1000)
                body = json.dumps(
                    {
                        "id": f"evt_bench_{t}_{i}",
                        "object": "event",
                        "type": "invoice.paid",
                        "created": t,
                        "data": {
                            "object": {
                                "id": f"in_bench_{t}_{i}",
                                "object": "invoice",
                                "customer": f"cus_bench_{c}",
                                "customer_email": f"payer{c}@bench.example",
                                "customer_name": f"Bench Payer{c}",
                                "amount_paid": 100 + c,
                                "currency": "usd",
                                "status_transitions": {"paid_at": t},
                            }
                        },
                    },
                    separators=(",", ":"),
                )
                if len(made) < 20000:
                    made.append(body)
                else:
                    made[rng.randrange(len(made))] = body
            mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256)
            f.write(f"t={t},v1={mac.hexdigest()}\t{body}\n")


if __name__ == "__main__":
    main()
