#!/usr/bin/env bash
# The files of the services' images besides their jars (docs/deploy.md, "Images"), under $3:
# a jlink runtime of the JDK in $1 with the modules $2 at /opt/umbra/runtime, the C libraries it
# links (from this build machine: the image's base is empty, "scratch"), /etc/passwd and /etc/group
# naming the user 10001, an empty /tmp and /var/lib/umbra.
set -euo pipefail
JDK="$1" MODULES="$2" ROOT="$3"
rm -rf "$ROOT"
mkdir -p "$ROOT/opt/umbra" "$ROOT/tmp" "$ROOT/var/lib/umbra" "$ROOT/etc"
"$JDK/bin/jlink" --add-modules "$MODULES" --output "$ROOT/opt/umbra/runtime" \
  --strip-debug --no-header-files --no-man-pages --generate-cds-archive >/dev/null
# every shared library the runtime's programs and libraries need, at the path the loader finds it
find "$ROOT/opt/umbra/runtime" -type f \( -name '*.so' -o -path '*/bin/*' \) -print0 |
  xargs -0 ldd 2>/dev/null | awk '/=> \// {print $3} /^\s*\/lib/ {print $1}' | sort -u |
  while read -r lib; do
    [[ "$lib" == "$ROOT"* ]] && continue
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
# the dynamic loader the programs name
interp="$(readelf -l "$ROOT/opt/umbra/runtime/bin/java" | sed -n 's/.*interpreter: \(.*\)]/\1/p')"
mkdir -p "$ROOT$(dirname "$interp")"
cp -L "$interp" "$ROOT$interp"
printf 'root:x:0:0:root:/root:/sbin/nologin\numbra:x:10001:10001:umbra:/var/lib/umbra:/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\numbra:x:10001:\n' >"$ROOT/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
