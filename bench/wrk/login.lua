-- POST /auth/jwt/create/ with the right credentials, over several accounts in turn;
-- counts every answer that is not 200.
-- usage: wrk -s login.lua URL -- USERNAME[,USERNAME...] PASSWORD
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  usernames = {}
  for name in string.gmatch(args[1], "[^,]+") do table.insert(usernames, name) end
  password = args[2]
  counter = offset or 0
  bad = 0
end

function request()
  counter = counter + 1
  local username = usernames[(counter % #usernames) + 1]
  local body = string.format('{"username": "%s", "password": "%s"}', username, password)
  return wrk.format("POST", "/auth/jwt/create/", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("NOT_200 %d\n", total))
end
