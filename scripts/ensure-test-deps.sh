#!/usr/bin/env bash
# Make sure the real servers the tests start are on this machine (DESIGN.md §6):
# PostgreSQL server binaries, redis-server, Debian's chromium, and node_modules.
# Idempotent: when everything is present it only checks paths and exits.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

cd "$(dirname "$0")/.."
log() { echo "[ensure-test-deps] $*"; }
die() { echo "[ensure-test-deps] ERROR: $*" >&2; exit 1; }

have_pg() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && return 0
  done
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null
}
have_redis() { command -v redis-server >/dev/null; }
have_chromium() { [[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} ]]; }
# mosquitto_pub/mosquitto_sub: the OwnTracks tests publish as the app does (tests/gateways/owntracks).
have_mosquitto() { command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null; }

missing=()
have_pg || missing+=(postgresql)
have_redis || missing+=(redis-server)
have_chromium || missing+=(chromium)
have_mosquitto || missing+=(mosquitto-clients)
# Chinese labels on the command screen need a CJK font, or screenshots show empty boxes.
fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || missing+=(fonts-wqy-microhei)

if ((${#missing[@]})); then
  log "missing: ${missing[*]}"
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || die "need root (or passwordless sudo) to install ${missing[*]}"
    sudo=(sudo -n)
  fi
  log "apt-get update"
  "${sudo[@]}" apt-get update -q </dev/null || die "apt-get update failed"
  log "apt-get install -y --no-install-recommends ${missing[*]}"
  start=$SECONDS
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null \
    || die "apt-get install ${missing[*]} failed"
  log "installed in $((SECONDS - start)) s"
  # The postgresql package starts a system cluster; tests use their own throwaway clusters only.
  have_pg || die "PostgreSQL server binaries still missing after install"
  have_redis || die "redis-server still missing after install"
  have_chromium || die "chromium still missing at ${CHROMIUM_PATH:-/usr/bin/chromium} after install"
  have_mosquitto || die "mosquitto_pub/mosquitto_sub still missing after install"
else
  log "postgresql, redis-server, chromium and mosquitto clients present"
fi

if [[ ! -d node_modules ]]; then
  log "node_modules missing: npm ci"
  npm ci </dev/null || die "npm ci failed"
fi
log "ok"
