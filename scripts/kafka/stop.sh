#!/usr/bin/env bash
# Stops the broker that scripts/kafka/start.sh started, by its pid file, and waits for it to exit
# (a clean shutdown first, SIGKILL after a bounded wait). No pid file: nothing of ours is running.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${TAGSTREAM_KAFKA_DIR:-$root/.kafka}"
pidfile="$dir/broker.pid"
wait_s="${KAFKA_STOP_TIMEOUT_S:-30}"

[ -d "$dir" ] || { echo "kafka: nothing started from $dir"; exit 0; }
# Never stop a broker that start.sh is still bringing up.
exec 9>"$dir/lock"
flock -w 600 9 || { echo "kafka: timed out waiting for $dir/lock" >&2; exit 1; }
[ -f "$pidfile" ] || { echo "kafka: no pid file at $pidfile; nothing to stop"; exit 0; }
pid="$(cat "$pidfile")"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "kafka: pid $pid is not running"
  rm -f "$pidfile"
  exit 0
fi
kill -TERM "$pid"
deadline=$((SECONDS + wait_s))
while kill -0 "$pid" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "kafka: pid $pid still running after ${wait_s}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
rm -f "$pidfile"
echo "kafka: broker (pid $pid) stopped"
