#!/bin/sh
# Behaviour test of a Postgres image, run INSIDE the image as postgres by image_test
# (images/defs.bzl, image_tests): initdb, a server on 127.0.0.1 (loopback is the only network
# in the test's namespace) and on the socket directory /var/run/postgresql, psql through both,
# a clean stop. Usage: postgres.sh MAJOR.
set -eu
major=${1:?usage: postgres.sh MAJOR}
export PATH=/usr/lib/postgresql/$major/bin:$PATH
data=/tmp/pgdata
initdb -D "$data" --auth=trust --no-sync >/tmp/initdb.log 2>&1 || { cat /tmp/initdb.log; exit 1; }
echo "ok   initdb"
stop() { pg_ctl -D "$data" -m fast -w stop >/dev/null 2>&1 || true; }
trap stop EXIT
if ! pg_ctl -D "$data" -l /tmp/postgres.log -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -c port=5432 -k /var/run/postgresql" start >/dev/null; then
	cat /tmp/postgres.log
	exit 1
fi
echo "ok   server started"
tcp=$(psql -h 127.0.0.1 -p 5432 -At -c 'select 1' postgres)
[ "$tcp" = 1 ] || { echo "FAIL select 1 over TCP: $tcp"; exit 1; }
echo "ok   psql -h 127.0.0.1 -c 'select 1': $tcp"
version=$(psql -h /var/run/postgresql -p 5432 -At -c 'show server_version_num' postgres)
case $version in
"$major"????) echo "ok   psql over the socket: server_version_num $version" ;;
*) echo "FAIL server_version_num $version is not of major $major"; exit 1 ;;
esac
pg_ctl -D "$data" -m fast -w stop >/dev/null
trap - EXIT
echo "ok   server stopped"
