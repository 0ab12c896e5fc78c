#!/usr/bin/env bash
# Debian packages the tests use: promtool (alert rule tests), docker-compose (compose
# validation), a CJK font (Chinese labels in the assessment report's charts), amqp-tools (the
# partner interop test's non-Python client), openssl (the TLS and webhook tests' CA), nodejs + npm (the
# Node.js partner example, its modules from examples/node/package-lock.json), chromium and a
# Noto CJK font (the console's browser tests: Playwright drives /usr/bin/chromium). Installed only
# when missing; needs root (CI and the dev machines are root).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v docker-compose >/dev/null || need+=(docker-compose)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v amqp-consume >/dev/null || need+=(amqp-tools)
command -v openssl >/dev/null || need+=(openssl)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing ${need[*]} (run as root to install); tests needing them will fail under CI=true" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
# The Node.js example's modules, exactly as locked (once; `npm ci` only when missing).
if command -v npm >/dev/null && [ ! -d "$here/examples/node/node_modules/amqplib" ]; then
  (cd "$here/examples/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
