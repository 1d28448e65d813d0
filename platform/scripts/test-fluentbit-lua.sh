#!/usr/bin/env bash
# Tests deploy/logging/index.lua, the Fluent Bit filter that names the
# Elasticsearch index <prefix>-<app>-<YYYY.MM.DD>, with Debian's Lua 5.4
# (Fluent Bit embeds LuaJIT, which runs the same code). Exits non-zero on any
# mismatch. Needs the lua5.4 package (apt-get install lua5.4).
set -euo pipefail
cd "$(dirname "$0")/../.."
lua=$(command -v lua5.4 || command -v lua || true)
if [[ -z "${lua}" ]]; then
  echo "test-fluentbit-lua.sh: lua5.4 not found (apt-get install lua5.4)" >&2
  exit 1
fi
"${lua}" platform/scripts/test-fluentbit-lua.lua deploy/logging/index.lua
