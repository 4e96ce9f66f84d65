-- wrk script for ops/bench/gateway: cycles through pre-signed requests written by
-- `docketctl sign --count N --document-ids FILE --out FILE` (JSON lines {"body": "...", "headers": {...}}),
-- each request with its own headers and body, and counts answers by status.
-- Environment: DOCKET_BENCH_REQUESTS (the JSON lines file), DOCKET_BENCH_PATH (default /document/update).

local requests = {}
local count = 0
local position = 0
local stride = 1

-- Reads a JSON string starting just after its opening quote; returns the text and the index after the closing quote.
local function read_string(s, i)
  local parts = {}
  local start = i
  while true do
    local c = s:sub(i, i)
    if c == "" then error("unterminated string") end
    if c == '"' then
      parts[#parts + 1] = s:sub(start, i - 1)
      return table.concat(parts), i + 1
    elseif c == "\\" then
      parts[#parts + 1] = s:sub(start, i - 1)
      local e = s:sub(i + 1, i + 1)
      if e == "n" then parts[#parts + 1] = "\n"
      elseif e == "t" then parts[#parts + 1] = "\t"
      elseif e == "r" then parts[#parts + 1] = "\r"
      elseif e == "b" then parts[#parts + 1] = "\b"
      elseif e == "f" then parts[#parts + 1] = "\f"
      elseif e == "u" then
        local code = tonumber(s:sub(i + 2, i + 5), 16)
        if code < 128 then parts[#parts + 1] = string.char(code)
        elseif code < 2048 then
          parts[#parts + 1] = string.char(192 + math.floor(code / 64), 128 + code % 64)
        else
          parts[#parts + 1] = string.char(224 + math.floor(code / 4096), 128 + math.floor(code / 64) % 64, 128 + code % 64)
        end
        i = i + 4
      else parts[#parts + 1] = e end
      i = i + 2
      start = i
    else
      i = i + 1
    end
  end
end

local function parse_line(line)
  local _, b = line:find('"body"%s*:%s*"')
  local _, h = line:find('"headers"%s*:%s*{')
  if not b or not h then error("not a docketctl sign line: " .. line:sub(1, 80)) end
  local body = read_string(line, b + 1)
  local headers = {}
  local i = h + 1
  while true do
    i = line:find("[\"}]", i)
    if line:sub(i, i) == "}" then break end
    local name, value
    name, i = read_string(line, i + 1)
    i = line:find('"', i, true)
    value, i = read_string(line, i + 1)
    headers[name] = value
  end
  return headers, body
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("DOCKET_BENCH_REQUESTS")
  local path = os.getenv("DOCKET_BENCH_PATH") or "/document/update"
  local offset = thread_id or 0
  stride = #threads > 0 and #threads or 1
  for line in io.lines(file) do
    if #line > 0 then
      local headers, body = parse_line(line)
      count = count + 1
      requests[count] = wrk.format("POST", path, headers, body)
    end
  end
  if count == 0 then error("no requests in " .. tostring(file)) end
  -- Threads take interleaved slices so no two send the same webhook.
  position = offset
  stride = tonumber(os.getenv("DOCKET_BENCH_THREADS") or "1")
  sent = 0
  accepted = 0
  unavailable = 0
  other = 0
  -- Hundreds of thousands of pre-built requests make every garbage-collector cycle walk them all, and those pauses
  -- showed up as client-side latency (p99 100+ ms against any server). The run's garbage fits in memory: no GC.
  collectgarbage("collect")
  collectgarbage("stop")
end

function request()
  local r = requests[position % count + 1]
  position = position + stride
  sent = sent + 1
  return r
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1
  elseif status == 503 then unavailable = unavailable + 1
  else other = other + 1 end
end

function done(summary, latency, reqs)
  local a, u, o, s = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + (t:get("accepted") or 0)
    u = u + (t:get("unavailable") or 0)
    o = o + (t:get("other") or 0)
    s = s + (t:get("sent") or 0)
  end
  io.write(string.format("bench.requests %d\n", summary.requests))
  io.write(string.format("bench.sent %d\n", s))
  io.write(string.format("bench.duration_us %d\n", summary.duration))
  io.write(string.format("bench.status_202 %d\n", a))
  io.write(string.format("bench.status_503 %d\n", u))
  io.write(string.format("bench.status_other %d\n", o))
  io.write(string.format("bench.errors %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("bench.p50_us %d\n", latency:percentile(50)))
  io.write(string.format("bench.p99_us %d\n", latency:percentile(99)))
  local pool = 0
  for _, t in ipairs(threads) do pool = math.max(pool, t:get("count") or 0) end
  io.write(string.format("bench.pool_size %d\n", pool))
end
