#!/usr/bin/env bash
# Makes sure Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, database "test") are up,
# starting them when they are not. Fails loudly: tests that need them must not silently skip.
set -u
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

pg_up() { psql "postgres://postgres@127.0.0.1:5432/postgres" -Atc 'select 1' >/dev/null 2>&1; }
if ! pg_up; then
  echo "starting postgresql" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 100); do pg_up && break; sleep 0.1; done
fi
pg_up || { echo "postgresql is not reachable on 127.0.0.1:5432" >&2; exit 1; }
if ! psql "postgres://postgres@127.0.0.1:5432/postgres" -Atc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql "postgres://postgres@127.0.0.1:5432/postgres" -c 'create database test' >/dev/null
fi
echo "redis and postgresql are up" >&2
