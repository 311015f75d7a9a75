-- GET /api/v1/search?q=<a prefix people type>, cycling through realistic prefixes.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local words = { "ana", "ben", "chl", "dav", "ele", "far", "gra", "hir", "smi", "gar", "m%C3%BCl", "ngu",
  "oka", "ros", "acme", "blue", "cedar", "delta", "labs", "systems", "555", "maya cos", "zoe s",
  "felix", "ivan", "kowal", "tanaka", "li", "o%27b", "pine" }
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end
function init(args)
  i = tid * 7
end
function request()
  i = i + 1
  local q = words[(i % #words) + 1]:gsub(" ", "%%20")
  return wrk.format("GET", "/api/v1/search?q=" .. q)
end
