#!/usr/bin/env bash
# Installs (apt) and starts, on loopback, the servers the provider tests talk to.
# Sourced by scripts/test.sh; each start_* is idempotent: a server already answering is kept.
set -euo pipefail

SERVICES_DIR=${POLYSESSION_SERVICES_DIR:-/tmp/polysession-services}
mkdir -p "$SERVICES_DIR"

APT_UPDATED=0
need() { # need BINARY PACKAGE...
  local bin=$1; shift
  command -v "$bin" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing $bin and not root: install $* yourself" >&2
    return 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # wait_port PORT NAME
  for _ in $(seq 1 100); do
    port_open "$1" && return 0
    sleep 0.1
  done
  echo "$2 did not start on port $1" >&2
  return 1
}

redis_on() { # redis_on PORT [extra redis-server args...]
  local port=$1; shift
  port_open "$port" && return 0
  mkdir -p "$SERVICES_DIR/redis-$port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$SERVICES_DIR/redis-$port" --logfile "$SERVICES_DIR/redis-$port/log" "$@"
  wait_port "$port" "redis-server"
}

start_redis() {
  need redis-server redis-server redis-tools
  redis_on 6379
  export POLYSESSION_REDIS=127.0.0.1:6379
}

start_redis_cluster() {
  need redis-server redis-server redis-tools
  local ports="7001 7002 7003" nodes=""
  for p in $ports; do
    redis_on "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000
    nodes="$nodes 127.0.0.1:$p"
  done
  if ! redis-cli -p 7001 cluster info | grep -q 'cluster_state:ok'; then
    if redis-cli -p 7001 cluster info | grep -q 'cluster_known_nodes:1'; then
      # shellcheck disable=SC2086
      redis-cli --cluster create $nodes --cluster-replicas 0 --cluster-yes >/dev/null
    fi
    for _ in $(seq 1 100); do
      redis-cli -p 7001 cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
  fi
  redis-cli -p 7001 cluster info | grep -q 'cluster_state:ok' || { echo "Redis Cluster is not ok" >&2; return 1; }
  export POLYSESSION_REDIS_CLUSTER="127.0.0.1:7001;127.0.0.1:7002;127.0.0.1:7003"
}

start_redis_sentinel() {
  need redis-server redis-server redis-tools
  redis_on 6381
  redis_on 6382 --replicaof 127.0.0.1 6381
  local list=""
  for p in 26379 26380 26381; do
    if ! port_open "$p"; then
      local dir="$SERVICES_DIR/sentinel-$p"
      mkdir -p "$dir"
      cat >"$dir/sentinel.conf" <<EOF
port $p
bind 127.0.0.1
dir $dir
sentinel monitor mymaster 127.0.0.1 6381 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
EOF
      redis-server "$dir/sentinel.conf" --sentinel --daemonize yes --logfile "$dir/log"
      wait_port "$p" "redis sentinel"
    fi
    list="$list;127.0.0.1:$p"
  done
  export POLYSESSION_REDIS_SENTINEL="${list#;}"
}

start_memcached() {
  need memcached memcached
  if ! port_open 11211; then
    # -I 8m: sessions up to a few MB; the default 1 MB item limit would refuse them.
    memcached -d -u "$(id -un)" -l 127.0.0.1 -p 11211 -m 256 -I 8m -P "$SERVICES_DIR/memcached.pid"
    wait_port 11211 memcached
  fi
  export POLYSESSION_MEMCACHE=127.0.0.1:11211
}

start_postgres() {
  if ! port_open 5432; then
    need pg_ctlcluster postgresql postgresql-contrib
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    # Tests connect over TCP as `postgres` without a password, as on the CI machines.
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_port 5432 postgresql
  fi
  need psql postgresql-client
  # providers/tests/tls.rs starts a PostgreSQL of its own with ssl=on (initdb, postgres).
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && [ -z "${POLYSESSION_PG_BIN:-}" ]; then
    need pg_ctlcluster postgresql
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null
  fi
  export POLYSESSION_POSTGRES_ADDR=127.0.0.1:5432
}

start_mariadb() {
  if ! port_open 3306; then
    need mariadbd mariadb-server
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1
    wait_port 3306 mariadb
  fi
  need mariadb mariadb-client
  # Tests connect over TCP as root with an empty password, as on the CI machines.
  if ! mariadb -h 127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; then
    mariadb -uroot -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD(''); \
      CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; \
      GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
  fi
  mariadb -h 127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test'
  export POLYSESSION_MYSQL_ADDR=127.0.0.1:3306
}

# Every server the tests use.
start_all() {
  start_redis
  start_redis_cluster
  start_redis_sentinel
  start_memcached
  start_postgres
  start_mariadb
}
