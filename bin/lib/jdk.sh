# Sourced by bin/umbra and .ci/run: finds a JDK 21 or newer.
# umbra_find_jdk prints its home (JAVA_HOME if new enough, else the newest under /usr/lib/jvm,
# else the java on PATH) and returns 1 when there is none.

umbra_java_major() { # the major version of the java binary $1, or 0
  # the JDK's release file says it without starting a JVM (which costs as much as a CLI command);
  # read with shell builtins only: bin/umbra runs this before every command
  local release="" line
  if [[ "$1" == */bin/java && -r "${1%/bin/java}/release" ]]; then
    release="${1%/bin/java}/release"
  else
    release="$(dirname "$(dirname "$(readlink -f "$1")")")/release"
  fi
  if [[ -r "$release" ]]; then
    while IFS= read -r line; do
      [[ "$line" == JAVA_VERSION=* ]] || continue
      line="${line#JAVA_VERSION=}"; line="${line//\"/}"; line="${line#1.}"
      if [[ "${line%%[.+-]*}" =~ ^[0-9]+$ ]]; then
        echo "${line%%[.+-]*}"; return 0
      fi
      break
    done <"$release"
  fi
  "$1" -XshowSettings:properties -version 2>&1 |
    awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1 || echo 0
}

umbra_find_jdk() {
  local candidate
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" && $(umbra_java_major "$JAVA_HOME/bin/java") -ge 21 ]]; then
    echo "$JAVA_HOME"; return 0
  fi
  for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    if [[ -x "$candidate/bin/javac" && $(umbra_java_major "$candidate/bin/java") -ge 21 ]]; then
      echo "${candidate%/}"; return 0
    fi
  done
  if command -v java >/dev/null && [[ $(umbra_java_major "$(command -v java)") -ge 21 ]]; then
    dirname "$(dirname "$(readlink -f "$(command -v java)")")"; return 0
  fi
  return 1
}
