-- GET the URL given to wrk, as the user whose token is in BENCH_TOKEN (anonymous if unset).
--   BENCH_TOKEN=... wrk -t1 -c16 -d10s -s bench/wrk/get.lua http://127.0.0.1:8000/api/articles/feed

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Token " .. token
end
