-- Recalls: each "recall" record (a packet and its sender's token, bound to the sending device)
-- is recalled once, in order, under a fresh Idempotency-Key (the recall key).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local recall

function init(args)
  common_init(args)
  recall = once_each(need("recall"))
end

function request()
  return recall_request(recall())
end
