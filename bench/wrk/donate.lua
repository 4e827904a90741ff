-- POST /api/v1/payments/ with a unique transaction id per request, spread over the collects
-- given as arguments; counts every answer that is not 201.
-- usage: wrk -s donate.lua URL -- TOKEN COLLECT_ID[,COLLECT_ID...]
local threads = {}

function setup(thread)
  thread:set("tag", string.format("%d-%d", os.time(), #threads))
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  collects = {}
  for id in string.gmatch(args[2], "%d+") do table.insert(collects, id) end
  counter = 0
  bad = 0
end

function request()
  counter = counter + 1
  local collect = collects[(counter % #collects) + 1]
  local body = string.format(
    '{"collect": %s, "amount": "10.00", "transaction_id": "bench-%s-%d"}', collect, tag, counter)
  return wrk.format("POST", "/api/v1/payments/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("NOT_201 %d\n", total))
end
