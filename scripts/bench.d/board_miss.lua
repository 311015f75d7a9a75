-- GET /deals with a different min_amount filter each time, so no request is answered from
-- the board cache: the cost of building a board after every change.
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
function init(args)
  i = tid * 100000
end
function request()
  i = i + 1
  return wrk.format("GET", "/deals?min_amount=" .. (i % 1000) .. "&max_amount=" .. (10000000 + i))
end
