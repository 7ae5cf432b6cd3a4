#!/usr/bin/env bash
# Captures the /proc and /sys files sysmon reads from this machine into tests/fixtures/NAME/.
# Files that fail to read on the host (e.g. the speed of a down NIC, EINVAL) are stored as a
# directory holding a FAILS_TO_READ note, so reading them in the fixture fails as well.
# statfs results are stored in statfs.json (mount point -> fields), since a fixture cannot statfs.
set -euo pipefail
name=${1:?usage: capture-fixture.sh NAME}
out="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/$name"
rm -rf "$out"
mkdir -p "$out"

copy() { # copy SRC (absolute) to $out/SRC, or mark it as failing
  local src=$1 dst="$out$1"
  mkdir -p "$(dirname "$dst")"
  if ! cat "$src" >"$dst" 2>/dev/null; then
    rm -f "$dst"
    mkdir -p "$dst"
    echo "reading $src failed on the captured host" >"$dst/FAILS_TO_READ"
  fi
}

for f in stat loadavg meminfo diskstats net/dev uptime 1/mountinfo self/mountinfo \
  sys/kernel/random/boot_id sys/vm/min_free_kbytes pressure/cpu pressure/memory pressure/io; do
  [ -e "/proc/$f" ] && copy "/proc/$f"
done

copy /sys/devices/system/cpu/online
for c in /sys/devices/system/cpu/cpu[0-9]*; do
  [ -e "$c/online" ] && copy "$c/online"
done

for b in /sys/block/*; do
  dev=$(basename "$b")
  mkdir -p "$out/sys/block/$dev"
  for f in size dev removable; do [ -e "$b/$f" ] && copy "$b/$f"; done
  for p in "$b"/"$dev"*; do
    [ -e "$p/partition" ] && copy "/sys/class/block/$(basename "$p")/partition"
  done
done

for n in /sys/class/net/*; do
  for f in speed operstate carrier mtu address duplex type flags ifalias; do
    [ -e "$n/$f" ] && copy "$n/$f"
  done
done

# statfs of every mount point, as `stat -f` sees it (fundamental block size = f_frsize).
{
  echo "{"
  first=1
  declare -A seen=()
  while read -r _ _ _ _ mnt _; do
    mnt=$(printf '%b' "$(sed 's/\\\([0-7]\{3\}\)/\\0\1/g' <<<"$mnt")")
    [ -n "${seen[$mnt]:-}" ] && continue
    seen[$mnt]=1
    if s=$(timeout 2 stat -f --format='%b %f %a %S %c %d' "$mnt" 2>/dev/null); then
      read -r blocks bfree bavail frsize files ffree <<<"$s"
      [ $first = 1 ] || echo ","
      first=0
      printf '  "%s": {"blocks": %s, "bfree": %s, "bavail": %s, "frsize": %s, "files": %s, "ffree": %s}' \
        "$mnt" "$blocks" "$bfree" "$bavail" "$frsize" "$files" "$ffree"
    fi
  done </proc/self/mountinfo
  echo
  echo "}"
} >"$out/statfs.json"
uname -r >"$out/KERNEL"
echo "captured $(find "$out" -type f | wc -l) files into $out"
