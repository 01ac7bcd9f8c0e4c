#!/usr/bin/env bash
# Installs (apt) and starts every test server on loopback, for benchmarks and manual runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_all
