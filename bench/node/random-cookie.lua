-- wrk script: a random cookie per request from the file named by COOKIES (one per line).
local cookies = {}
for line in io.lines(os.getenv("COOKIES")) do
  cookies[#cookies + 1] = line
end

request = function()
  return wrk.format("GET", nil, { Cookie = cookies[math.random(#cookies)] })
end
