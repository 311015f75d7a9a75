-- POST /api/v1/contacts with a unique email on every request.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
function init(args)
  n = 0
  prefix = tostring(tid) .. "-" .. tostring(os.time())
end
function request()
  n = n + 1
  local body = string.format(
    '{"first_name":"Bench","last_name":"Writer %d","email":"w%s-%d@bench.example","company":"Bench Writers %d","source":"paid"}',
    n, prefix, n, n % 50)
  return wrk.format(nil, "/api/v1/contacts", nil, body)
end
-- Count answers other than 201 so the summary can show them.
function response(status, headers, body)
  if status ~= 201 then
    bad = (bad or 0) + 1
  end
end
