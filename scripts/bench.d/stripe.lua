-- POST /webhooks/stripe: signed invoice.paid events read from the file BENCH_STRIPE_EVENTS
-- (made by stripe_events.py just before the case: LuaJIT has no HMAC). Thread k of
-- BENCH_THREADS sends every BENCH_THREADS-th line from line k, in order, so a repeat in
-- the file is a repeat on the wire.
wrk.method = "POST"
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
  sigs, bodies, n = {}, {}, 0
  local i = 0
  for line in io.lines(os.getenv("BENCH_STRIPE_EVENTS")) do
    if i % threads == tid - 1 then
      local tab = line:find("\t", 1, true)
      sigs[#sigs + 1] = line:sub(1, tab - 1)
      bodies[#bodies + 1] = line:sub(tab + 1)
    end
    i = i + 1
  end
end
function request()
  n = n % #bodies + 1
  return wrk.format(nil, "/webhooks/stripe",
    { ["Content-Type"] = "application/json", ["Stripe-Signature"] = sigs[n] }, bodies[n])
end
