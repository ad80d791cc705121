#!/usr/bin/env bash
# Runs one of Kafka's own console tools (3.9.1, the jars of scripts/kafka/pom.xml in .kafka/lib,
# fetched first if needed) against a broker, e.g. the one of scripts/kafka/start.sh:
#
#   scripts/kafka/tool.sh console-consumer --bootstrap-server 127.0.0.1:9092 --topic events --from-beginning
#   scripts/kafka/tool.sh consumer-groups --bootstrap-server 127.0.0.1:9092 --describe --all-groups
#   scripts/kafka/tool.sh transactions --bootstrap-server 127.0.0.1:9092 list
#
# The name is the tool's usual one without `kafka-` and `.sh` (given with them, they are dropped).
# stdout is the tool's output only: its logging goes to stderr, warnings and errors only. The JVM is
# kept light (-Xmx256m, serial GC); KAFKA_OPTS adds JVM options after ours (-Xmx1g, or
# -Dorg.slf4j.simpleLogger.defaultLogLevel=info for the clients' logging).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
dir="${TAGSTREAM_KAFKA_DIR:-$root/.kafka}"

usage="usage: scripts/kafka/tool.sh console-consumer|console-producer|consumer-groups|topics|transactions|get-offsets [args…]"
name="${1:-}"
name="${name#kafka-}"
name="${name%.sh}"
case "$name" in
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  # Still in the broker's jar in 3.9 (kafka-tools has it from 4.0).
  console-producer) main=kafka.tools.ConsoleProducer ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  transactions) main=org.apache.kafka.tools.TransactionsCommand ;;
  get-offsets) main=org.apache.kafka.tools.GetOffsetShell ;;
  -h | --help | help) echo "$usage"; exit 0 ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
shift

command -v java >/dev/null || { echo "kafka: java (17+) is needed to run Kafka's tools" >&2; exit 1; }
kafka_fetch_lib "$dir" || exit 1

java_opts=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.logFile=System.err)
# shellcheck disable=SC2206 # KAFKA_OPTS is a list of options, split on spaces as Kafka's own scripts do
extra=(${KAFKA_OPTS:-})
exec java "${java_opts[@]}" "${extra[@]}" -cp "$dir/lib/*" "$main" "$@"
