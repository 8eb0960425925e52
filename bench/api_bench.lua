-- wrk script for bench/api_bench.py: POSTs issuance requests that cycle through a pool of
-- ready-made JSON bodies (one per line of the file named by the BODIES environment variable),
-- and counts every answer whose status is not the expected one (EXPECT, default 201).
--
-- wrk runs one Lua state per thread; setup() keeps each thread so that done() can add up
-- their counters.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BODIES")) do
    if #line > 0 then table.insert(bodies, line) end
  end
  if #bodies == 0 then error("no request bodies in " .. tostring(os.getenv("BODIES"))) end
  expect = tonumber(os.getenv("EXPECT") or "201")
  path = os.getenv("REQUEST_PATH") or "/api/v1/certificates"
  headers = { ["Content-Type"] = "application/json" }
  local auth = os.getenv("AUTHORIZATION")
  if auth and #auth > 0 then headers["Authorization"] = auth end
  next_body = 0
  unexpected = 0
  first_unexpected = ""
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", path, headers, bodies[next_body])
end

function response(status, response_headers, body)
  if status ~= expect then
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local total_unexpected = 0
  local first = ""
  for _, thread in ipairs(threads) do
    total_unexpected = total_unexpected + thread:get("unexpected")
    if first == "" then first = thread:get("first_unexpected") end
  end
  -- One line api_bench.py parses; everything else wrk prints is for people.
  io.write(string.format(
    "API_BENCH requests=%d duration_us=%d unexpected=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, total_unexpected,
    summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
  if first ~= "" then io.write("API_BENCH_FIRST_UNEXPECTED " .. first .. "\n") end
end
