#!/usr/bin/env python3
"""Per filter case of Settings → Audit log: the API page (first and deep), the server-side
statement time (from the server's sqlx log) and the plan (EXPLAIN QUERY PLAN / EXPLAIN
(ANALYZE, BUFFERS)); how scripts/bench.d/audit-1m.md was measured.

usage: audit_plans.py sqlite|pg PORT TOKEN SERVER_LOG [NAME_FILTER]
  with a running `cairn serve` (CAIRN_LOG=warn,sqlx::query=debug, logging to SERVER_LOG)
  and SQLITE_DB=<file> or PGPORT/PGDB set; TWO_STEP=1 EXPLAINs the page as it is now
  (ids from the filter's index, then rows), unset the single statement of before."""
import json, re, subprocess, sys, time, urllib.request, urllib.parse, datetime as dt, os

engine, port, token, log = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
only = sys.argv[5] if len(sys.argv) > 5 else None
now = dt.datetime.now(dt.timezone.utc)
d = lambda days: (now - dt.timedelta(days=days)).strftime('%Y-%m-%d')
DEEP = int((now - dt.timedelta(days=180)).timestamp() * 1e6)

CASES = [
    ("none", {}),
    ("who", {"actor_id": "2"}),
    ("what=update", {"action": "update"}),
    ("what=change_role (1%)", {"action": "change_role"}),
    ("type=deal", {"entity": "deal"}),
    ("type=user", {"entity": "user"}),
    ("record contact 123", {"entity": "contact", "entity_id": "123"}),
    ("record user 2 (14k rows)", {"entity": "user", "entity_id": "2"}),
    ("who+what", {"actor_id": "2", "action": "update"}),
    ("who+type", {"actor_id": "2", "entity": "contact"}),
    ("what+type", {"action": "update", "entity": "deal"}),
    ("what+type empty", {"action": "sign_in", "entity": "contact"}),
    ("who+what+type", {"actor_id": "2", "action": "update", "entity": "contact"}),
    ("who+what+type empty", {"actor_id": "2", "action": "delete", "entity": "deal"}),
    ("who+record", {"actor_id": "2", "entity": "contact", "entity_id": "123"}),
    ("what+record", {"action": "update", "entity": "contact", "entity_id": "123"}),
    ("who+what+record", {"actor_id": "2", "action": "update", "entity": "contact", "entity_id": "123"}),
    ("who+record user 2 empty", {"actor_id": "3", "entity": "user", "entity_id": "2"}),
    ("from 90d", {"from": d(90)}),
    ("from..to 1 day", {"from": d(200), "to": d(200)}),
    ("who from..to", {"actor_id": "2", "from": d(200), "to": d(190)}),
    ("what+type from 90d", {"action": "update", "entity": "deal", "from": d(90)}),
    ("type from 90d", {"entity": "deal", "from": d(90)}),
    ("who+what+type from..to", {"actor_id": "2", "action": "sign_in", "entity": "user", "from": d(300), "to": d(299)}),
    ("record from..to", {"entity": "contact", "entity_id": "123", "from": d(300), "to": d(100)}),
    ("unknown who", {"actor_id": "999"}),
    ("what=import (all in the first 60 days)", {"action": "import"}),
    ("what=import+type", {"action": "import", "entity": "contact"}),
    ("who=7 (left 180 days ago)", {"actor_id": "7"}),
    ("who=7+what", {"actor_id": "7", "action": "update"}),
    ("who=7+type", {"actor_id": "7", "entity": "deal"}),
    ("who=7+what=import", {"actor_id": "7", "action": "import"}),
]

def get(params):
    url = f"http://127.0.0.1:{port}/api/v1/audit?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())

def last_elapsed(n):
    """The server-side times (ms) of the last n audit page statements in the log."""
    out = []
    with open(log, errors="replace") as f:
        for line in f:
            if 'FROM \\"audit_log\\" LEFT JOIN' in line and "summary" in line:
                m = re.search(r"elapsed_secs=([0-9.e-]+)", line)
                if m:
                    out.append(float(m.group(1)) * 1000)
    return out[-n:]

def lit(v):
    return str(v) if isinstance(v, int) else "'" + v + "'"

def ts(micros):
    t = dt.datetime.fromtimestamp(micros / 1e6, dt.timezone.utc)
    return t.strftime('%Y-%m-%dT%H:%M:%S.%f+00:00')

def day(s, end):
    t = dt.datetime.strptime(s, '%Y-%m-%d').replace(tzinfo=dt.timezone.utc)
    if end: t += dt.timedelta(days=1)
    return t.strftime('%Y-%m-%dT%H:%M:%S.%f+00:00')

def sql(p, cursor=None):
    w = []
    if "actor_id" in p: w.append(f'"audit_log"."actor_id" = {p["actor_id"]}')
    if "action" in p: w.append(f'"audit_log"."action" = {lit(p["action"])}')
    if "entity" in p: w.append(f'"audit_log"."entity" = {lit(p["entity"])}')
    if "entity_id" in p: w.append(f'"audit_log"."entity_id" = {p["entity_id"]}')
    if "from" in p: w.append(f'"audit_log"."created_at" >= {lit(day(p["from"], False))}')
    if "to" in p: w.append(f'"audit_log"."created_at" < {lit(day(p["to"], True))}')
    if cursor:
        m, i = cursor.split("_")
        w.append(f'("audit_log"."created_at", "audit_log"."id") < ({lit(ts(int(m)))}, {i})')
    where = (" WHERE " + " AND ".join(w)) if w else ""
    if os.environ.get("TWO_STEP"):
        where = (' WHERE "audit_log"."id" IN (SELECT "audit_log"."id" FROM "audit_log"' + where +
                 ' ORDER BY "audit_log"."created_at" DESC, "audit_log"."id" DESC LIMIT 51)')
        return ('SELECT "audit_log"."id", "audit_log"."created_at", "audit_log"."actor_id", "audit_log"."ip", '
            '"audit_log"."action", "audit_log"."entity", "audit_log"."entity_id", "audit_log"."detail", '
            '"users"."name" AS "actor_name" FROM "audit_log" LEFT JOIN "users" ON "audit_log"."actor_id" = "users"."id"'
            + where + ' ORDER BY "audit_log"."created_at" DESC, "audit_log"."id" DESC')
    return ('SELECT "audit_log"."id", "audit_log"."created_at", "audit_log"."actor_id", "audit_log"."ip", '
            '"audit_log"."action", "audit_log"."entity", "audit_log"."entity_id", "audit_log"."detail", '
            '"users"."name" AS "actor_name" FROM "audit_log" LEFT JOIN "users" ON "audit_log"."actor_id" = "users"."id"'
            + where + ' ORDER BY "audit_log"."created_at" DESC, "audit_log"."id" DESC LIMIT 51')

def explain(q):
    if engine == "sqlite":
        out = subprocess.run(["sqlite3", os.environ["SQLITE_DB"], "EXPLAIN QUERY PLAN " + q], capture_output=True, text=True).stdout
        return " | ".join(l.strip("|-` ") for l in out.splitlines()[1:] if ("users" not in l or "SCAN" in l) and "LIST SUBQUERY" not in l and "rowid=?" not in l)
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", os.environ["PGPORT"], "-U", "postgres", os.environ["PGDB"], "-Atc",
                          "EXPLAIN (ANALYZE, BUFFERS) " + q], capture_output=True, text=True).stdout
    lines = out.splitlines()
    scans = [l.strip() for l in lines if ("Scan" in l or "Sort " in l) and "users" not in l and "audit_log_pkey" not in l]
    rows = [re.search(r"actual time=[0-9.]+\.\.[0-9.]+ rows=(\d+)", l) for l in lines if "audit_log" in l and "Scan" in l]
    filt = [l.strip() for l in lines if "Rows Removed" in l]
    bufs = [l.strip() for l in lines if "Buffers" in l][:1]
    ex = [l.strip() for l in lines if "Execution Time" in l or "Planning Time" in l]
    return " ; ".join([re.sub(r"\s*\(cost=[^)]*\)", "", s) for s in scans] + filt + bufs + ex)

def measure(p, n=5):
    for _ in range(n):
        page = get(p)
    return page, sorted(last_elapsed(n))

print(f"| filter | page | rows | server ms (med/max of 5) | plan |")
for name, p in CASES:
    if only and only not in name: continue
    page, el = measure(p)
    deep = dict(p, before=f"{DEEP}_0")
    dpage, del_ = measure(deep)
    rows = [("first", page, el, None), ("deep 180d", dpage, del_, f"{DEEP}_0")]
    if "who=7" in name or "import" in name:
        near = int((now - dt.timedelta(days=10)).timestamp() * 1e6)
        npage, nel = measure(dict(p, before=f"{near}_0"))
        rows.append(("deep 10d", npage, nel, f"{near}_0"))
    for label, pg, e, cur in rows:
        print(f"| {name} `{urllib.parse.urlencode(p)}` | {label} | {len(pg['items'])} | {e[len(e)//2]:.2f}/{e[-1]:.2f} | {explain(sql(p, cur))} |", flush=True)
