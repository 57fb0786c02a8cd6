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
