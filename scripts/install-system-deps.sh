#!/usr/bin/env bash
# Debian packages the tests use: promtool (alert rule tests), docker-compose (compose
# validation) and a CJK font (Chinese labels in the assessment report's charts). Installed only when missing; needs root (CI and the dev machines are root).
set -euo pipefail
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v docker-compose >/dev/null || need+=(docker-compose)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]} (run as root to install); tests needing them will fail under CI=true" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
