-- The mixed traffic of bench/web-mixed.sh: each request picks the next of these paths.
local prefixes = {}
for a = string.byte("a"), string.byte("r") do
  prefixes[#prefixes + 1] = string.char(a) .. "e*"
  prefixes[#prefixes + 1] = string.char(a) .. "o*"
end
local costly = table.concat(prefixes, "%20OR%20")
local paths = {
  "/techniques/T1090",
  "/techniques/T1059?community=1",
  "/search?q=" .. costly .. "&limit=200",
  "/api/v1/techniques/T1090",
  "/api/v1/search?q=powershell%20encoded",
  "/techniques/T1566?community=1&page=2",
  "/api/v1/search?q=" .. costly,
  "/search?q=tor%20exit%20node",
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end

-- Which answers the mix got, by status, so errors can be told apart (a refusal by a limit is
-- a 503 with Retry-After; anything else is a defect).
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end
init = function()
  statuses = {}
end
response = function(status)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d: %d\n", status, count))
  end
end
