#!/usr/bin/env bash
# Fails loudly when a real client the interop tests drive is missing.
set -u
missing=()
command -v kcat >/dev/null || missing+=("kcat (apt-get install kcat)")
/usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || missing+=("python3-confluent-kafka (apt-get install python3-confluent-kafka)")
/usr/bin/python3 -c 'import kafka, lz4' 2>/dev/null || missing+=("python3-kafka with python3-lz4 (apt-get install python3-kafka python3-lz4)")
[ -d node_modules/kafkajs ] || missing+=("kafkajs (npm ci)")
[ -d node_modules/@platformatic/kafka ] || missing+=("@platformatic/kafka (npm ci)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "interop peers missing:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  echo "run: sudo bash scripts/install-peers.sh" >&2
  exit 1
fi
