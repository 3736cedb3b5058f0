-- Claims on one hot packet: every request a different claimer (round-robin), all on the
-- current packet of the "hot" series; a thread moves to the next packet when told it is
-- empty, and stops when the series is used up (http_bench.py reports that as "ran out").
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local claimer, hot
local current = 1

function init(args)
  common_init(args)
  claimer = cursor(need("claimer"))
  hot = need("hot")
end

function request()
  return claim_request(hot[current][1], claimer()[1])
end

function on_response(status, body)
  if status == 200 and string.find(body, '"result":"packet_empty"', 1, true) then
    if string.match(body, '"packet_id":"([^"]+)"') == hot[current][1] then
      if current == #hot then
        stop_thread()
      else
        current = current + 1
      end
    end
  end
end
