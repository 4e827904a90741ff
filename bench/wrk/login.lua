-- POST /auth/jwt/create/ with the right credentials; counts every answer that is not 200.
-- usage: wrk -s login.lua URL -- USERNAME PASSWORD
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  body = string.format('{"username": "%s", "password": "%s"}', args[1], args[2])
  bad = 0
end

function request()
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
