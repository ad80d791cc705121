#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft, broker+controller) on 127.0.0.1:9092 for tests and
# local use (KAFKA_PORT moves it, e.g. when 9092 is taken; KAFKA_HOST puts its client listener on
# another local address, e.g. a veth's for a network-cut test). The jars come from Maven Central once
# (scripts/kafka/pom.xml → .kafka/lib; again when pom.xml changes: lib.sh); every start formats a
# fresh data directory, so a run never sees an earlier run's topics. Idempotent: a broker already
# answering on the port is left alone. Stop it with scripts/kafka/stop.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
dir="${TAGSTREAM_KAFKA_DIR:-$root/.kafka}"
port="${KAFKA_PORT:-9092}"
# The address clients connect to (listened on and advertised); the controller stays on 127.0.0.1.
host="${KAFKA_HOST:-127.0.0.1}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
wait_s="${KAFKA_START_TIMEOUT_S:-90}"

answers() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

if answers "$port"; then
  echo "kafka: $host:$port already answers; leaving it running"
  exit 0
fi
command -v java >/dev/null || { echo "kafka: java (17+) is needed to run the broker" >&2; exit 1; }

mkdir -p "$dir"
# Several test runs may start at once in one checkout: one starts the broker, the others wait for the
# lock and then find it answering.
exec 9>"$dir/lock"
flock -w 600 9 || { echo "kafka: timed out waiting for $dir/lock" >&2; exit 1; }
if answers "$port"; then
  echo "kafka: $host:$port already answers; leaving it running"
  exit 0
fi
lib="$dir/lib"
# The jars of pom.xml, fetched the first time and again whenever pom.xml changes (lib.sh).
kafka_fetch_lib "$dir" || exit 1

log="$dir/broker.log"
pidfile="$dir/broker.pid"
# A broker of an earlier start that is alive but not answering is stuck: replace it.
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  stale="$(cat "$pidfile")"
  echo "kafka: broker pid $stale from an earlier start does not answer; stopping it" >&2
  kill -TERM "$stale" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$stale" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$stale" 2>/dev/null || true
  rm -f "$pidfile"
fi

# A fresh log directory each start: tests isolate by topic prefix, but stale topics only cost disk.
# KAFKA_KEEP_DATA=1 keeps what an earlier start of this directory wrote: a restart, as a chaos test
# restarts its own broker under load (test/worker/chaos-broker.test.ts).
data="$dir/data"
if [ "${KAFKA_KEEP_DATA:-0}" != 1 ] || [ ! -f "$data/meta.properties" ]; then
  rm -rf "$data"
  mkdir -p "$data"
fi
props="$dir/server.properties"
cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://$host:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://$host:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# Topics are created by the adapter with the configured partition count, never by a stray read.
auto.create.topics.enable=false
# One broker: internal topics cannot be replicated, and a small offsets topic is created quickly.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Tests join and leave consumer groups constantly; do not hold the first rebalance back.
group.initial.rebalance.delay.ms=0
# Failover after a SIGKILL needs short sessions (src/worker/kafka/group-member.ts, 1.5 s in tests); the default 6 s floor refuses them.
group.min.session.timeout.ms=500
# The broker's own retention runs often, and deleted segments go soon, so a long session stays small.
log.retention.check.interval.ms=10000
log.segment.delete.delay.ms=1000
num.network.threads=2
num.io.threads=4
PROPS

cp="$lib/*"
java_opts=(-Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dslf4j.internal.verbosity=WARN -Dorg.slf4j.simpleLogger.defaultLogLevel=info
  -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.log.kafka.request.logger=warn
  -Dorg.slf4j.simpleLogger.log.state.change.logger=warn)

# Kept data (KAFKA_KEEP_DATA=1) is formatted already, under its own cluster id.
if [ ! -f "$data/meta.properties" ]; then
  cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  java "${java_opts[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" --ignore-formatted >"$dir/format.log" 2>&1 || {
    echo "kafka: formatting $data failed:" >&2
    tail -n 40 "$dir/format.log" >&2
    exit 1
  }
fi

# setsid: the broker outlives this script and is not killed with the shell that started it.
setsid java "${java_opts[@]}" -cp "$cp" kafka.Kafka "$props" >"$log" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$pidfile"

# Ready = the port answers and the broker says it started (the port can open before requests are served).
deadline=$((SECONDS + wait_s))
until answers "$port" && grep -q "Kafka Server started" "$log"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kafka: the broker exited during startup; log tail:" >&2
    tail -n 60 "$log" >&2
    rm -f "$pidfile"
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "kafka: not ready on $host:$port after ${wait_s}s; log tail:" >&2
    tail -n 60 "$log" >&2
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    exit 1
  fi
  sleep 0.5
done
echo "kafka: broker ready on $host:$port (pid $pid, log $log)"
