#!/usr/bin/env bash
# Builds the self-contained distribution (docs/deploy.md): a jlink runtime with only the JDK modules
# the jars use, the launcher's jars, bin/umbra that runs them on that runtime, and the tarball.
# Run by Maven in `package` (dist/pom.xml); all arguments come from there.
#   make-dist.sh <java-home> <version> <target-dir> <jar-dir> <cli-classpath-file> <modules> <repo-dir>
set -euo pipefail
JDK="$1" VERSION="$2" TARGET="$3" JARS="$4" CLI_LIST="$5" MODULES="$6" REPO="$7"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "$(uname -m)" in x86_64|amd64) ARCH=x86_64 ;; aarch64|arm64) ARCH=aarch64 ;; *) ARCH="$(uname -m)" ;; esac
NAME="umbra-$VERSION"
OUT="$TARGET/dist/$NAME"
STAMP="$TARGET/dist/.inputs"

# The build: the commit when the sources are a git checkout (with "-dirty" for uncommitted changes)
COMMIT="$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ "$COMMIT" != unknown ]] && ! git -C "$REPO" diff --quiet HEAD -- 2>/dev/null; then COMMIT="$COMMIT-dirty"; fi

# The runtime image only when the JDK or the module list changed (jlink is most of this script's time)
RUNTIME_KEY="$("$JDK/bin/java" -version 2>&1 | head -1) $MODULES"
if [[ ! -x "$OUT/runtime/bin/java" || "$(cat "$STAMP" 2>/dev/null)" != "$RUNTIME_KEY" ]]; then
  rm -rf "$OUT"
  mkdir -p "$OUT"
  # --generate-cds-archive: the runtime's own class-data sharing archive (what `java -version`
  # of a full JDK starts with); without it every start of the image pays for loading java.base
  "$JDK/bin/jlink" --add-modules "$MODULES" --output "$OUT/runtime" \
    --strip-debug --no-header-files --no-man-pages --generate-cds-archive
  echo "$RUNTIME_KEY" >"$STAMP"
fi

rm -rf "$OUT/lib" "$OUT/bin"
mkdir -p "$OUT/lib" "$OUT/bin"
cp -p "$JARS"/*.jar "$OUT/lib/"
# the CLI's own class path (bin/umbra runs one-shot commands with it: docs/cli.md, "Start-up")
IFS= read -r line <"$CLI_LIST" || true
echo "${line//lib\//}" >"$OUT/lib/cli.classpath"
install -m 0755 "$SRC/dist/bin/umbra" "$OUT/bin/umbra"
printf 'UMBRA_VERSION=%s\nUMBRA_BUILD=%s\nUMBRA_ARCH=%s\n' "$VERSION" "$COMMIT" "$ARCH" >"$OUT/release"

# The start-up cache of exactly what `umbra --version` loads (bin/umbra uses it; docs/benchmarks.md,
# "Distribution"), made here by one run of it on the runtime: the JDK records the jars relative to
# their common directory (and their sizes and times, which tar and dpkg keep), so the cache serves
# the tree wherever it is unpacked or installed. JDK 25: an AOT cache; 21-24: a dynamic CDS archive.
LAUNCHER=("$OUT"/lib/umbra-launcher-*.jar)
JAVA_MAJOR="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$OUT/runtime/release")"
if (( JAVA_MAJOR >= 25 )); then
  CACHE_OPTS=(-XX:AOTCacheOutput="$OUT/lib/umbra-version.aot" -Xlog:aot=off)
else
  CACHE_OPTS=(-XX:ArchiveClassesAtExit="$OUT/lib/umbra-version.jsa")
fi
"$OUT/runtime/bin/java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
  "${CACHE_OPTS[@]}" -Xlog:cds=off -cp "${LAUNCHER[0]}" dev.umbra.launcher.Umbra --version >/dev/null

# the tarball: one directory, owned by root whoever built it
TARBALL="$TARGET/$NAME-linux-$ARCH.tar.gz"
tar -C "$TARGET/dist" --owner=0 --group=0 --numeric-owner -cf - "$NAME" | gzip -1 >"$TARBALL.tmp"
mv -f "$TARBALL.tmp" "$TARBALL"
echo "dist: $TARBALL ($(du -h "$TARBALL" | cut -f1), build $COMMIT)"
