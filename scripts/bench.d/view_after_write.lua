-- A page after a write: every fourth request changes a deal's amount through the API
-- (PATCH /api/v1/deals/{random id}, which moves the board counter), the others open the
-- page BENCH_PATH as the bench admin. For the board (/deals) every change retires each
-- kept board: the first view after it rebuilds, the views until the next change are hits.
-- The dashboard (/) shows its kept figures at most 5 s after a change: one view in 5 s
-- rebuilds them.
local token = "Bearer " .. os.getenv("BENCH_TOKEN")
local cookie = os.getenv("BENCH_COOKIE")
local max_id = tonumber(os.getenv("BENCH_DEALS") or "2000")
local path = os.getenv("BENCH_PATH")
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
function init(args)
  n = 0
  math.randomseed(tid)
end
function request()
  n = n + 1
  if n % 4 == 0 then
    local body = string.format('{"amount":%d}', math.random(1, 5000000))
    return wrk.format("PATCH", "/api/v1/deals/" .. math.random(1, max_id),
      {["Authorization"] = token, ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", path, {["Cookie"] = cookie})
end
