-- GET /api/v1/contacts/{random id} over the seeded ids.
local max_id = tonumber(os.getenv("BENCH_MAX_ID") or "10000")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
function init(args)
  math.randomseed(os.time() + tid * 7919)
end
function request()
  return wrk.format("GET", "/api/v1/contacts/" .. math.random(1, max_id))
end
