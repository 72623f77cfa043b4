-- wrk script for bench/ingest.py: cycles through precomputed, signed requests.
-- Usage: wrk -t T -s bench/ingest.lua URL -- <requests file> <T>
-- Each line of the file is "<path>\t<X-Twilio-Signature>\t<form body>"; wrk thread k of T
-- takes lines k, k+T, k+2T, ... so no two threads send the same MessageSid.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local threads = tonumber(args[2])
  requests = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % threads == id then
      local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
      if signature ~= "" then headers["X-Twilio-Signature"] = signature end
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
    i = i + 1
  end
  position = 0
end

function request()
  position = position + 1
  if position > #requests then position = 1 end
  return requests[position]
end
