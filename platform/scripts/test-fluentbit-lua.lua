-- Table test of deploy/logging/index.lua (run by test-fluentbit-lua.sh).
-- arg[1] is the path of index.lua.
dofile(arg[1])

local day = 1754438400 -- 2025-08-06T00:00:00Z
local cases = {
  { "plain tag", "internal.my-app", day, {}, "internal-my-app-2025.08.06" },
  { "extra tag parts are ignored", "internal.my-app.worker.7", day, {}, "internal-my-app-2025.08.06" },
  { "one-part tag", "internal", day, {}, "unknown-unknown-2025.08.06" },
  { "empty tag", "", day, {}, "unknown-unknown-2025.08.06" },
  { "nil tag", nil, day, {}, "unknown-unknown-2025.08.06" },
  { "leading and doubled dots", "..internal..my-app", day, {}, "internal-my-app-2025.08.06" },
  { "upper case and forbidden characters", "Internal.My App*", day, {}, "internal-my-app--2025.08.06" },
  { "float time, last second of the day", "internal.app", day + 86399.999, {}, "internal-app-2025.08.06" },
  { "time as table (sec, nsec)", "internal.app", { sec = day + 86400, nsec = 5 }, {}, "internal-app-2025.08.07" },
  { "time as an array", "internal.app", { day }, {}, "internal-app-2025.08.06" },
  { "host logs", "host.syslog", day, {}, "host-syslog-2025.08.06" },
  { "container log: app.kubernetes.io/name label", "kube.var.log.containers.qm-1_stf_queue-manager-abc.log", day,
    { kubernetes = { labels = { ["app.kubernetes.io/name"] = "queue-manager", app = "streamforge" } } },
    "kube-queue-manager-2025.08.06" },
  { "container log: only the app label", "kube.var.log.containers.x.log", day,
    { kubernetes = { labels = { app = "kafka-ui" } } }, "kube-kafka-ui-2025.08.06" },
  { "container log: no labels, zerolog service field", "kube.var.log.containers.x.log", day,
    { kubernetes = { container_name = "worker" }, service = "loader-producer" }, "kube-loader-producer-2025.08.06" },
  { "container log: no labels, no service", "kube.var.log.containers.x.log", day,
    { kubernetes = { container_name = "worker" } }, "kube-worker-2025.08.06" },
  { "container log: no kubernetes metadata", "kube.var.log.containers.x.log", day, {}, "kube-unknown-2025.08.06" },
  { "container log: empty app label", "kube.x", day,
    { kubernetes = { labels = { ["app.kubernetes.io/name"] = "" }, container_name = "c" } }, "kube-c-2025.08.06" },
}

local passed, failed = 0, 0
for _, c in ipairs(cases) do
  local name, tag, ts, record, want = c[1], c[2], c[3], c[4], c[5]
  local code, ts_out, out = cb_set_index(tag, ts, record)
  local ok = code == 1 and ts_out == ts and out.log_index == want and want:sub(1, #out.log_prefix) == out.log_prefix
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write(string.format("FAIL %s: tag %q -> %q (code %s, prefix %q), want %q\n",
      name, tostring(tag), tostring(out and out.log_index), tostring(code), tostring(out and out.log_prefix), want))
  end
end

-- No usable time: today's date (UTC).
local _, _, out = cb_set_index("internal.app", 0, {})
if out.log_index == "internal-app-" .. os.date("!%Y.%m.%d") then
  passed = passed + 1
else
  failed = failed + 1
  io.stderr:write("FAIL zero time: got " .. out.log_index .. "\n")
end

print(string.format("fluent-bit lua: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
