-- Shared by the http_bench scenarios (loaded with dofile by each scenario script).
--
-- Arguments after wrk's "--": DATA_FILE RUN_ID THREADS. The data file is written by
-- benchmarks/http_bench.py, one record a line, tab-separated, its first field the kind:
--   claimer TOKEN | sender USER TOKEN | packet ID | hot ID | recall ID TOKEN | group ID
-- Every wrk thread reads it and keeps every record of the kinds it stripes (claimers, senders,
-- recalls) whose position modulo THREADS is its own, so no two threads use one user or packet.
--
-- Counts kept per thread, gathered in done(): responses by status (and error code when not
-- 2xx), and the first "result" and "state" field of each body. done() prints them with the
-- latency percentiles as lines "HTTPBENCH<TAB>name<TAB>key<TAB>value" for http_bench.py.

local STRIPED = { claimer = true, sender = true, recall = true }

thread_index = 0  -- set by setup(); 1-based
thread_count = 1
run_id = "run"
records = {}      -- kind -> list of records (each a list of fields)
statuses = {}
tallies = {}
ran_out = 0
local key_counter = 0

-- ------------------------------------------------------------------- setup phase (main)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

-- ------------------------------------------------------------------- running phase

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    table.insert(fields, field)
  end
  return fields
end

local function load(path)
  local handle = assert(io.open(path, "r"), "cannot open the data file " .. tostring(path))
  local seen = {}
  for line in handle:lines() do
    local fields = split(line)
    local kind = table.remove(fields, 1)
    if kind ~= nil then
      seen[kind] = (seen[kind] or 0) + 1
      local mine = not STRIPED[kind] or (seen[kind] - 1) % thread_count == thread_index - 1
      if mine then
        records[kind] = records[kind] or {}
        table.insert(records[kind], fields)
      end
    end
  end
  handle:close()
end

function common_init(args)
  assert(args[1] and args[2] and args[3], "arguments: DATA_FILE RUN_ID THREADS")
  run_id = args[2]
  thread_count = tonumber(args[3])
  load(args[1])
  -- Seeded by the run id too: a warm-up and its measured run draw other packets.
  local seed = thread_index * 7919
  for position = 1, #run_id do
    seed = (seed * 31 + string.byte(run_id, position)) % 2147483647
  end
  math.randomseed(seed)
end

function need(kind)
  local list = records[kind]
  assert(list and #list > 0, "the data file has no '" .. kind .. "' records for this thread")
  return list
end

-- A key unique to this run, thread and request: at most 64 characters of [A-Za-z0-9-].
function next_key()
  key_counter = key_counter + 1
  return string.format("%s-%d-%d", run_id, thread_index, key_counter)
end

function auth(token, extra)
  local headers = extra or {}
  headers["Authorization"] = "Bearer " .. token
  return headers
end

function post(path, token, body)
  local headers = auth(token, { ["Idempotency-Key"] = next_key() })
  if body ~= nil then
    headers["Content-Type"] = "application/json"
  end
  return wrk.format("POST", path, headers, body)
end

-- Round-robin over a list from a random place: cursor(list) returns a function giving the
-- next item each call.
function cursor(list)
  local position = math.random(#list) - 1
  return function()
    position = position % #list + 1
    return list[position]
  end
end

function stop_thread()
  ran_out = 1
  wrk.thread:stop()
end

-- Each record of a list once, in order; when they are used up the thread stops (the request
-- still asked for repeats the last record, which no longer changes anything).
function once_each(list)
  local position = 0
  return function()
    if position >= #list then
      stop_thread()
      return list[#list]
    end
    position = position + 1
    return list[position]
  end
end

-- ------------------------------------------------------------------- the requests

local SEND_BODY = '{"type":"group_lucky","amount":"10.00","shares":10,'
  .. '"funding_source_id":"%s-balance","group_id":"%s"}'
local RECALL_BODY = '{"challenge_ids":[],"accept_balance":false}'

function claim_request(packet, token)
  return post("/v1/packets/" .. packet .. "/claims", token, nil)
end

-- A group lucky packet of 10 shares, 10.00 CNY, from the sender's own balance to the group.
function send_request(sender, group)
  local user, token = sender[1], sender[2]
  return post("/v1/packets", token, string.format(SEND_BODY, user, group))
end

function recall_request(recall)
  local packet, token = recall[1], recall[2]
  return post("/v1/packets/" .. packet .. "/recalls", token, RECALL_BODY)
end

function read_request(packet, token)
  return wrk.format("GET", "/v1/packets/" .. packet, auth(token))
end

local function count(table_, key)
  table_[key] = (table_[key] or 0) + 1
end

function response(status, headers, body)
  local key = tostring(status)
  if status < 200 or status > 299 then
    key = key .. " " .. (string.match(body or "", '"code":"([^"]+)"') or "-")
  end
  count(statuses, key)
  local result = string.match(body or "", '"result":"([%w_]+)"')
  if result then
    count(tallies, "result=" .. result)
  end
  local state = string.match(body or "", '"state":"([%w_]+)"')
  if state then
    count(tallies, "state=" .. state)
  end
  if on_response then
    on_response(status, body or "")
  end
end

-- ------------------------------------------------------------------- done phase (main)

local function emit(name, key, value)
  io.write(string.format("HTTPBENCH\t%s\t%s\t%s\n", name, key, tostring(value)))
end

local function merged(name)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get(name) or {}) do
      total[key] = (total[key] or 0) + value
    end
  end
  return total
end

function done(summary, latency, requests)
  emit("summary", "requests", summary.requests)
  emit("summary", "duration_us", summary.duration)
  for name, value in pairs(summary.errors) do
    emit("errors", name, value)
  end
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    emit("latency_us", string.format("p%g", p), latency:percentile(p))
  end
  emit("latency_us", "max", latency.max)
  emit("latency_us", "mean", latency.mean)
  for key, value in pairs(merged("statuses")) do
    emit("status", key, value)
  end
  for key, value in pairs(merged("tallies")) do
    emit("tally", key, value)
  end
  local out = 0
  for _, thread in ipairs(threads) do
    out = out + (thread:get("ran_out") or 0)
  end
  emit("summary", "threads_ran_out", out)
end
