#!/usr/bin/env bash
# End-to-end test of a Postgres image, run INSIDE the container by images/tests/e2e:
#   initdb + pg_ctl start + psql as postgres; compile, install and CREATE EXTENSION a tiny C
#   extension with PGXS; list the installed packages for the caller to compare with the lock.
# Usage: pg_e2e.sh db|build|install|create|packages
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
export PATH=$pgbin:$PATH
case "$1" in
db) # as postgres
	initdb -D /tmp/pgdata --auth=trust >/tmp/initdb.log
	pg_ctl -D /tmp/pgdata -l /tmp/pg.log -o "-k /var/run/postgresql -c listen_addresses=''" -w start >/dev/null
	psql -h /var/run/postgresql -At -c 'select version()' postgres
	;;
build) # as postgres: a C extension built with PGXS
	mkdir -p /tmp/ext && cd /tmp/ext
	cat >add_one.c <<'C'
#include "postgres.h"
#include "fmgr.h"
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(add_one);
Datum add_one(PG_FUNCTION_ARGS) { PG_RETURN_INT32(PG_GETARG_INT32(0) + 1); }
C
	cat >add_one--1.0.sql <<'SQL'
CREATE FUNCTION add_one(integer) RETURNS integer AS 'MODULE_PATHNAME', 'add_one' LANGUAGE C STRICT;
SQL
	printf "comment = 'e2e test'\ndefault_version = '1.0'\nmodule_pathname = '\$libdir/add_one'\nrelocatable = true\n" >add_one.control
	printf 'MODULES = add_one\nEXTENSION = add_one\nDATA = add_one--1.0.sql\nPG_CONFIG = pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' >Makefile
	make -s
	;;
install) # as root
	make -s -C /tmp/ext install
	;;
create) # as postgres
	psql -h /var/run/postgresql -At -c 'CREATE EXTENSION add_one' -c 'SELECT add_one(41)' postgres
	;;
packages)
	dpkg-query -W -f '${Package}_${Version}_${Architecture}\n' | sort
	;;
*)
	echo "pg_e2e.sh: unknown step $1" >&2
	exit 2
	;;
esac
