-- wrk script: cycles through pre-signed requests, one per line of the file named by
-- CCMS_BENCH_REQUESTS ("authorization<TAB>body"), and prints the figures as JSON.
local path = os.getenv("CCMS_BENCH_PATH")
local host = os.getenv("CCMS_BENCH_HOST")
local requests = {}
for line in io.lines(os.getenv("CCMS_BENCH_REQUESTS")) do
  local authorization, body = line:match("^(.-)\t(.*)$")
  requests[#requests + 1] = wrk.format("POST", path, {
    ["Host"] = host,
    ["Content-Type"] = "application/json;charset=UTF-8",
    ["Authorization"] = authorization,
  }, body)
end
local index = 0

request = function()
  index = index % #requests + 1
  return requests[index]
end

done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'CCMS_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
