-- Fluent Bit Lua filter: derive the Elasticsearch index
-- <prefix>-<app>-<YYYY.MM.DD> from the tag, e.g. tag internal.my-app ->
-- internal-my-app-2025.08.06. The rules, made safe:
--   * prefix and app are the first two dot-separated parts of the tag;
--     a tag with fewer parts gives unknown-unknown;
--   * container logs tailed on the node (tag kube.var.log.containers...)
--     take the app from the pod's labels (app.kubernetes.io/name, then app),
--     then the zerolog "service" field, then the container name;
--   * the date is the record's time in UTC (a number, or a table with sec
--     or [1] when time_as_table is on), else the current time;
--   * names are lower-cased and characters Elasticsearch forbids in index
--     names become '-'.
-- Sets log_index (the full name) and log_prefix (<prefix>-<app>, which the
-- es output's Logstash_Prefix_Key turns into the same index name).
-- Tested by platform/scripts/test-fluentbit-lua.sh.

local function clean(s)
  s = string.lower(tostring(s))
  s = string.gsub(s, "[^a-z0-9_.-]", "-")
  s = string.gsub(s, "^[-_.+]+", "")
  if s == "" then
    return "unknown"
  end
  return s
end

local function epoch(timestamp)
  local t = nil
  if type(timestamp) == "number" then
    t = timestamp
  elseif type(timestamp) == "table" then
    t = tonumber(timestamp.sec or timestamp[1])
  end
  if t == nil or t <= 0 then
    return os.time()
  end
  return math.floor(t)
end

local function app_of_container(record)
  local k = record["kubernetes"]
  if type(k) == "table" then
    local labels = k["labels"]
    if type(labels) == "table" then
      local app = labels["app.kubernetes.io/name"] or labels["app"]
      if app ~= nil and app ~= "" then
        return app
      end
    end
  end
  if record["service"] ~= nil and record["service"] ~= "" then
    return record["service"]
  end
  if type(k) == "table" and k["container_name"] ~= nil then
    return k["container_name"]
  end
  return "unknown"
end

function cb_set_index(tag, timestamp, record)
  local prefix = "unknown"
  local app = "unknown"
  local parts = {}
  for part in string.gmatch(tag or "", "([^.]+)") do
    table.insert(parts, part)
  end
  if #parts >= 2 then
    prefix = parts[1]
    app = parts[2]
  end
  if prefix == "kube" then
    app = app_of_container(record)
  end
  local date = os.date("!%Y.%m.%d", epoch(timestamp))
  record["log_prefix"] = clean(prefix) .. "-" .. clean(app)
  record["log_index"] = record["log_prefix"] .. "-" .. date
  return 1, timestamp, record
end
