-- POST a new article as the user whose token is in BENCH_TOKEN, each with its own title
-- (the app would make a repeated title's slug unique too, at the cost of one more query).
--   BENCH_TOKEN=... wrk -t1 -c16 -d10s -s bench/wrk/create_article.lua http://127.0.0.1:8000/api/articles

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local token = os.getenv("BENCH_TOKEN") or ""
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local paragraph = "Measured with wrk against one worker. "
  .. "Every request writes one article, its tags and reads it back. "
local body = string.rep(paragraph, 12)
local run = tostring(os.time())
local sent = 0

function request()
  sent = sent + 1
  local title = string.format("Benchmark %s %d-%d", run, thread_id or 0, sent)
  local payload = string.format(
    '{"article": {"title": "%s", "description": "A load test article.", '
      .. '"body": "%s", "tagList": ["benchmark", "performance"]}}',
    title, body
  )
  return wrk.format("POST", nil, {
    ["Authorization"] = "Token " .. token,
    ["Content-Type"] = "application/json",
  }, payload)
end
