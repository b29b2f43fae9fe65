#!/usr/bin/env bash
# Starts MongoDB VERSION in Docker on localhost:27017, as a single-node replica set (rs0, its
# member advertised as localhost:27017 so the driver on the runner reaches it) or as a
# standalone server, waits until it accepts writes, and prints MONGODB_URI=... for $GITHUB_ENV.
# Usage: start-mongodb.sh 7.0 replica-set|standalone
set -euo pipefail
version="$1"
topology="$2"

args=(--bind_ip_all)
[ "$topology" = replica-set ] && args+=(--replSet rs0)
docker run -d --name mongodb -p 27017:27017 "mongo:${version}" "${args[@]}" >&2

# mongosh ships in the 6.0+ images; 5.0 images have the legacy `mongo` shell.
eval_js() {
  docker exec mongodb bash -c 'if command -v mongosh >/dev/null; then mongosh --quiet --eval "$1"; else mongo --quiet --eval "$1"; fi' _ "$1"
}

for _ in $(seq 1 60); do
  eval_js 'db.adminCommand({ ping: 1 }).ok' >/dev/null 2>&1 && break
  sleep 1
done

if [ "$topology" = replica-set ]; then
  eval_js 'rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "localhost:27017" }] })' >&2
  for _ in $(seq 1 60); do
    [ "$(eval_js 'db.hello().isWritablePrimary' 2>/dev/null | tail -n 1)" = true ] && break
    sleep 1
  done
  echo "MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0"
else
  echo "MONGODB_URI=mongodb://localhost:27017/"
fi
