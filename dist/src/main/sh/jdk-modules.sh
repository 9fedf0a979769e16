#!/usr/bin/env bash
# Lists the JDK modules the jars in $1 use (jdeps over each jar), comma-separated, for
# umbra.dist.modules in dist/pom.xml. Modular jars are analysed with the others as module path.
# Plus the modules used only through reflection or services, which jdeps cannot see:
#   jdk.crypto.ec (EC key agreement for TLS), jdk.net (Netty's socket options), jdk.zipfs (Flyway's
#   classpath scanning of jars), jdk.crypto.cryptoki is not needed (no PKCS#11).
# Usage: dist/src/main/sh/jdk-modules.sh dist/target/dist-lib
set -euo pipefail
LIB="$1"
JAVA_HOME="${JAVA_HOME:?set JAVA_HOME}"
{
  for j in "$LIB"/*.jar; do
    "$JAVA_HOME/bin/jdeps" --multi-release 21 --ignore-missing-deps --print-module-deps -q \
      --module-path "$LIB" "$j" 2>/dev/null || echo "jdeps failed on $j" >&2
  done
  echo "jdk.crypto.ec,jdk.net,jdk.zipfs"
} | tr ',' '\n' | grep -E '^(java|jdk)\.' | sort -u | paste -sd,
