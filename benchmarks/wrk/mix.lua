-- A mix in a fixed repeating order of 20 requests: 12 claims spread over many packets, 3 sends,
-- 2 recalls and 3 reads of a packet (GET /v1/packets/{id} by a group member).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local ORDER = "CCSCRCCGCSCCGCRCCSCG" -- C claim, S send, R recall, G read
local claimer, sender, packets, group, recall
local step = 0

function init(args)
  common_init(args)
  claimer = cursor(need("claimer"))
  sender = cursor(need("sender"))
  packets = need("packet")
  group = need("group")[1][1]
  recall = once_each(need("recall"))
end

function request()
  step = step % #ORDER + 1
  local kind = string.sub(ORDER, step, step)
  if kind == "S" then
    return send_request(sender(), group)
  elseif kind == "R" then
    return recall_request(recall())
  end
  local packet = packets[math.random(#packets)][1]
  if kind == "G" then
    return read_request(packet, claimer()[1])
  end
  return claim_request(packet, claimer()[1])
end
