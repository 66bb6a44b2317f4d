#!/usr/bin/env bash
# Start PostgreSQL and Mosquitto when they are not answering; this machine kind usually has them up.
set -uo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! up 1883 && command -v mosquitto >/dev/null; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi
for _ in $(seq 1 30); do up 5432 && up 1883 && exit 0; sleep 1; done
echo "warning: PostgreSQL or Mosquitto is not answering" >&2
