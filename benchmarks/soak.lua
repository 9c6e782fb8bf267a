-- wrk script of the soak: cycles through pre-signed queries (CCMS_BENCH_REQUESTS, one
-- "authorization<TAB>body" a line), waits CCMS_SOAK_DELAY_MS between two requests of a
-- connection (the pacing that holds the target rate), counts the answers that are not a
-- success envelope, and prints the figures as JSON.
local path = os.getenv("CCMS_BENCH_PATH")
local host = os.getenv("CCMS_BENCH_HOST")
local pause = tonumber(os.getenv("CCMS_SOAK_DELAY_MS") or "0")
local requests = {}
for line in io.lines(os.getenv("CCMS_BENCH_REQUESTS")) do
  local authorization, body = line:match("^(.-)\t(.*)$")
  requests[#requests + 1] = wrk.format("POST", path, {
    ["Host"] = host,
    ["Content-Type"] = "application/json;charset=UTF-8",
    ["Authorization"] = authorization,
  }, body)
end

local threads = {}

setup = function(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

init = function(_)
  index = id * 7919
  failed = 0
end

request = function()
  index = index % #requests + 1
  return requests[index]
end

if pause > 0 then
  delay = function()
    return pause
  end
end

response = function(status, _, body)
  if status ~= 200 or not body:find('"resultCode":"0100000"', 1, true) then
    failed = failed + 1
  end
end

done = function(summary, latency, _)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'CCMS_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "non_2xx": %d, "failed": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, failures))
end
