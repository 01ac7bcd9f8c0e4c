-- wrk script: each thread keeps up to 1000 session cookies it was given and sends a random
-- one per request, so requests spread over many sessions like real traffic.
local cookies = {}
local max = 1000

request = function()
  if #cookies < max then
    return wrk.format("GET", "/")
  end
  return wrk.format("GET", "/", { Cookie = cookies[math.random(#cookies)] })
end

response = function(status, headers, body)
  local c = headers["set-cookie"] or headers["Set-Cookie"]
  if c and #cookies < max then
    cookies[#cookies + 1] = c:match("^[^;]+")
  end
end
