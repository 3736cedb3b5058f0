-- Claims spread over many packets: every request a different claimer (round-robin) on a
-- packet drawn at random from the "packet" records.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local claimer, packets

function init(args)
  common_init(args)
  claimer = cursor(need("claimer"))
  packets = need("packet")
end

function request()
  return claim_request(packets[math.random(#packets)][1], claimer()[1])
end
