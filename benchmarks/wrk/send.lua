-- Sends from senders taken round-robin, each from its own balance to the "group" record's group.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local sender, group

function init(args)
  common_init(args)
  sender = cursor(need("sender"))
  group = need("group")[1][1]
end

function request()
  return send_request(sender(), group)
end
