#!/usr/bin/env bash
# The whole test suite from a fresh machine with Node/npm and apt: installs the pinned Deno and the
# Debian packages the tests use (when run as root, or with sudo), then runs fmt, lint, type check and
# every test. Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

npm ci --prefix tools --no-audit --no-fund --loglevel=error >/dev/null || { echo "npm ci --prefix tools failed"; exit 1; }
export PATH="$PWD/tools/node_modules/.bin:$PATH"

# Reference tools the cross-check tests compare against (iostat/sar from sysstat, promtool, stress-ng),
# and the real Prometheus that scrapes `sysmon serve` in its integration test.
need=()
command -v iostat >/dev/null || need+=(sysstat)
command -v promtool >/dev/null || need+=(prometheus)
command -v stress-ng >/dev/null || need+=(stress-ng)
command -v ip >/dev/null || need+=(iproute2)
command -v free >/dev/null || need+=(procps)
command -v systemd-analyze >/dev/null || need+=(systemd)
[ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v openssl >/dev/null || need+=(openssl)   # self-signed certificates for the TLS test
[ -x /usr/bin/amtool ] || need+=(prometheus-alertmanager)   # alert export and end-to-end tests
command -v gzip >/dev/null || need+=(gzip)
command -v tmux >/dev/null || need+=(tmux)   # sysmon watch end to end, in a real terminal
command -v script >/dev/null || need+=(bsdutils)   # a pty for the terminal-restore tests
[ -x /usr/bin/chromium ] || need+=(chromium)   # the HTML report rendered headless (a screenshot)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null \
    || echo "warning: could not install ${need[*]}; tests that need them will fail"
fi

status=0
deno fmt --check || status=1
deno lint || status=1
deno task check || status=1

log=$(mktemp)
NO_COLOR=1 deno test -A --parallel 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
[ "$test_status" -ne 0 ] && status=1

line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$line")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$line")
rm -f "$log"
if [ -z "$line" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
# A failing fmt/lint/check counts as one more failure so the summary never reads green when it isn't.
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "${passed} passed, ${failed} failed"
exit $status
