# Sourced by scripts/kafka/start.sh and scripts/kafka/tool.sh (bash).
#
# kafka_fetch_lib DIR: makes sure DIR/lib holds the jars of scripts/kafka/pom.xml (the broker and
# Kafka's console tools), fetching them from Maven Central with `mvn dependency:copy-dependencies`
# when they are missing or were fetched for another version of pom.xml: DIR/lib/.complete holds the
# sha256 of the pom.xml it was fetched for, written last. A fetch goes into a new directory that
# then replaces DIR/lib whole, so a JVM starting meanwhile never sees half of it, and concurrent
# callers are serialised by flock on DIR/lib.lock (not DIR/lock, which start.sh holds while a broker
# starts). Messages go to stderr, mvn's output to DIR/lib-fetch.log: a tool's stdout is its output
# only. Returns non-zero on failure.
kafka_scripts_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

kafka_fetch_lib() {
  local dir="$1" pom="$kafka_scripts_dir/pom.xml"
  local lib="$dir/lib" want fd status=0
  want="$(sha256sum "$pom" | cut -d' ' -f1)" || return 1
  [ "$(cat "$lib/.complete" 2>/dev/null)" = "$want" ] && return 0
  mkdir -p "$dir" || return 1
  exec {fd}>"$dir/lib.lock" || return 1
  if ! flock -w 600 "$fd"; then
    echo "kafka: timed out waiting for $dir/lib.lock" >&2
    exec {fd}>&-
    return 1
  fi
  # Another caller may have fetched while this one waited.
  if [ "$(cat "$lib/.complete" 2>/dev/null)" != "$want" ]; then
    _kafka_fetch_lib_locked "$dir" "$pom" "$want" || status=$?
  fi
  exec {fd}>&-
  return "$status"
}

_kafka_fetch_lib_locked() {
  local dir="$1" pom="$2" want="$3" lib="$1/lib" new="$1/lib.new.$$" old="$1/lib.old.$$"
  command -v mvn >/dev/null || { echo "kafka: mvn is needed to fetch the Kafka jars (scripts/kafka/pom.xml) into $lib" >&2; return 1; }
  if [ -d "$lib" ]; then
    echo "kafka: scripts/kafka/pom.xml changed since $lib was fetched; fetching it again from Maven Central" >&2
  else
    echo "kafka: fetching the Kafka jars (broker and console tools) from Maven Central into $lib" >&2
  fi
  # Left by a fetch that was killed (we hold the lock, so no other fetch is running).
  rm -rf "$dir"/lib.new.* "$dir"/lib.old.*
  # mvn's output goes to a file (Debian's mvn writes colour resets even with -q -B), shown on failure.
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$new" >"$dir/lib-fetch.log" 2>&1; then
    echo "kafka: mvn could not fetch the jars of $pom (full output in $dir/lib-fetch.log):" >&2
    sed 's/\x1b\[[0-9;]*m//g' "$dir/lib-fetch.log" | tail -n 40 >&2
    rm -rf "$new"
    return 1
  fi
  echo "$want" >"$new/.complete" || return 1
  if [ -d "$lib" ]; then mv "$lib" "$old" || return 1; fi
  mv "$new" "$lib" || return 1
  rm -rf "$old"
}
