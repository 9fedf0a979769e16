#!/usr/bin/env bash
# Builds the Debian package from the distribution make-dist.sh made (docs/deploy.md, "Debian"):
# /usr/lib/umbra (runtime, jars, bin/umbra), /usr/bin/umbra, the daemon's unit (written by the
# distribution's own `umbra daemon install --root`, so the package ships exactly what the command
# writes) and the maintainer scripts that create and, on purge, remove the system user.
#   make-deb.sh <version> <target-dir>
set -euo pipefail
VERSION="$1" TARGET="$2"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$TARGET/dist/umbra-$VERSION"
case "$(uname -m)" in x86_64|amd64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64 ;; *) ARCH="$(uname -m)" ;; esac
DEB_VERSION="${VERSION//-/\~}"   # 0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT (sorts before 0.1.0)

PKG="$TARGET/deb/umbra"
rm -rf "$TARGET/deb"
mkdir -p "$PKG/DEBIAN" "$PKG/usr/lib" "$PKG/usr/bin"
cp -a "$DIST" "$PKG/usr/lib/umbra"
ln -s ../lib/umbra/bin/umbra "$PKG/usr/bin/umbra"
"$DIST/bin/umbra" daemon install --root "$PKG" --unit-dir /usr/lib/systemd/system \
  --exec /usr/bin/umbra --no-start >/dev/null

SIZE="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
sed -e "s/@VERSION@/$DEB_VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" \
  "$SRC/deb/control" >"$PKG/DEBIAN/control"
for f in postinst prerm postrm; do install -m 0755 "$SRC/deb/$f" "$PKG/DEBIAN/$f"; done

DEB="$TARGET/umbra_${DEB_VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$PKG" "$DEB" >/dev/null
rm -rf "$TARGET/deb"
echo "deb: $DEB ($(du -h "$DEB" | cut -f1))"
