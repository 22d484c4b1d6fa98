#!/bin/sh
# Structure test of a Postgres image, run INSIDE the image by image_test (images/defs.bzl,
# image_tests): what the image must hold, compared with what Bazel derived from the lockfile and
# the image definition. Expectations: the environment variables WANT_* and the files
# /ci-images-test/*.expected. Prints one line per check and ends with "N passed, N failed".
set -u
dir=/ci-images-test
passed=0
failed=0

# check NAME WANT GOT: one comparison.
check() {
	if [ "$2" = "$3" ]; then
		echo "ok   $1: $3"
		passed=$((passed + 1))
	else
		printf 'FAIL %s:\n  want: %s\n  got:  %s\n' "$1" "$2" "$3"
		failed=$((failed + 1))
	fi
}

# check_file NAME EXPECTED_FILE COMMAND...: the command's output must equal the file.
check_file() {
	name=$1 want=$2
	shift 2
	got=$("$@" 2>&1)
	if printf '%s\n' "$got" | diff -u "$want" - >/tmp/diff; then
		echo "ok   $name ($(wc -l <"$want") lines)"
		passed=$((passed + 1))
	else
		echo "FAIL $name:"
		head -n 40 /tmp/diff | sed 's/^/  /'
		failed=$((failed + 1))
	fi
}

pgbin=/usr/lib/postgresql/$WANT_PG_MAJOR/bin
check "$pgbin/pg_config --version" "$WANT_PG_CONFIG" "$("$pgbin/pg_config" --version 2>&1)"
check "pg_config --version (PATH)" "$WANT_PG_CONFIG" "$(pg_config --version 2>&1)"
check "postgres --version" "postgres (PostgreSQL) ${WANT_PG_CONFIG#PostgreSQL }" "$("$pgbin/postgres" --version 2>&1)"
if [ -n "${WANT_GCC:-}" ]; then
	check "gcc --version" "$WANT_GCC" "$(gcc --version 2>&1 | head -n 1)"
	printf 'int main(void) { return 0; }\n' >/tmp/t.c
	check "gcc compiles and links" "0" "$(gcc -o /tmp/t /tmp/t.c 2>&1 && /tmp/t; echo $?)"
fi

users() { for u in $(cut -d: -f1 "$dir/users.expected"); do getent passwd "$u" | cut -d: -f1,3,4,6,7; done; }
check_file "users (name:uid:gid:home:shell)" "$dir/users.expected" users
groups_() { for g in $(cut -d: -f1 "$dir/groups.expected"); do getent group "$g" | cut -d: -f1,3,4; done; }
check_file "groups (name:gid:members)" "$dir/groups.expected" groups_
dirs() { for d in $(cut -d' ' -f1 "$dir/dirs.expected"); do stat -c '%n %a %U %G' "$d"; done; }
check_file "directories (path mode owner group)" "$dir/dirs.expected" dirs

for l in $WANT_LOCALES; do
	check "locale -a has $l" "$l" "$(locale -a | grep -Fx "$l")"
done

while IFS= read -r kv; do
	check "environment ${kv%%=*}" "$kv" "$(env | grep -F -x -- "$kv")"
done <"$dir/env.expected"

packages() { dpkg-query -W -f '${Package}_${Version}_${Architecture}\n' | LC_ALL=C sort; }
check_file "dpkg-query lists exactly the locked packages" "$dir/dpkg.expected" packages
check "dpkg --audit" "" "$(dpkg --audit 2>&1)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
