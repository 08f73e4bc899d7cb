#!/usr/bin/env bash
# Installs the real Kafka clients the interop tests drive (Debian packages). Needs root.
set -euo pipefail
pkgs=(kcat python3-confluent-kafka python3-kafka python3-lz4)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
