#!/usr/bin/env bash
# Installs (apt) and starts every test server on loopback, for benchmarks and manual runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_redis
start_redis_cluster
start_redis_sentinel
start_memcached
start_postgres
start_mariadb
