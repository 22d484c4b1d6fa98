#!/usr/bin/env bash
# bench/lock/run.sh: time imagetool lock's parse + resolve on the full bookworm main index
# (indexes already cached: downloads excluded) and apt-get install -s on the same request with a
# private apt state; writes bench/lock/results.txt. The mirror comes from
# /etc/apt/sources.list.d/debian.sources at run time (via tools/mirror-config).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=tools/lib/mirror.sh
. tools/lib/mirror.sh
out=bench/lock/results.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set_name=${SET:-debian15}

tools/mirror-config >"$tmp/dl.cfg"
go build -o "$tmp/bench" ./bench/lock
go build -o "$tmp/imagetool" ./tools/cmd/imagetool
# Fill the cache (network; not measured). Writes to a scratch copy of the lockfile.
mkdir -p "$tmp/ws"
cp -r images pg_versions.bzl "$tmp/ws/"
"$tmp/imagetool" lock --workspace "$tmp/ws" --sets "$set_name" --downloader-config "$tmp/dl.cfg" 2>/dev/null

rss() { awk -F': ' '/Maximum resident set size/ {printf "%.0f MiB", $2 / 1024}' "$1"; }
{
	echo "# bench/lock results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(go env GOVERSION), set $set_name)"
	echo
	for i in 1 2 3; do
		/usr/bin/time -v -o "$tmp/time.cold" "$tmp/bench" -workspace "$tmp/ws" -downloader-config "$tmp/dl.cfg" -set "$set_name" -mode cold
		echo "  max RSS (cold run $i): $(rss "$tmp/time.cold")"
	done
	/usr/bin/time -v -o "$tmp/time.warm" "$tmp/bench" -workspace "$tmp/ws" -downloader-config "$tmp/dl.cfg" -set "$set_name" -n 50
	echo "  max RSS (warm process, index kept in memory): $(rss "$tmp/time.warm")"
	echo

	# apt-get install -s with a private state: same sources (the mirror), same request.
	"$tmp/bench" -workspace "$tmp/ws" -downloader-config "$tmp/dl.cfg" -set "$set_name" -print-requests >"$tmp/reqs"
	mirror=$(mirror_main)
	security=$(mirror_security)
	key="$root/images/keys/debian-archive.asc"
	a="$tmp/apt"
	mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial"
	: >"$a/status"
	printf 'deb [signed-by=%s] %s %s main\n' "$key" "$mirror" bookworm "$key" "$mirror" bookworm-updates \
		"$key" "$security" bookworm-security >"$a/sources.list"
	opts=(-o "Dir::State=$a/state" -o "Dir::State::status=$a/status" -o "Dir::Etc::SourceList=$a/sources.list"
		-o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o "Dir::Cache=$a/cache" -o Debug::NoLocking=1 -o APT::Architecture=amd64 -o APT::Architectures=amd64
		-o APT::Sandbox::User=root -o Acquire::Languages=none)
	apt-get "${opts[@]}" -qq update >/dev/null
	rm -f "$a/cache/"*.bin
	for run in "first (builds pkgcache.bin from the lists)" "second (pkgcache.bin reused)"; do
		/usr/bin/time -v -o "$tmp/time.apt" apt-get "${opts[@]}" -qq -s install --no-install-recommends $(cat "$tmp/reqs") >"$tmp/apt.out"
		n=$(grep -c '^Inst ' "$tmp/apt.out" || true)
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time.apt")
		echo "apt-get install -s --no-install-recommends, $run: ${wall} wall, $(rss "$tmp/time.apt") max RSS, $n packages"
	done
} 2>&1 | sed -E -e "s#$(mirror_hosts_re)#<mirror>#g" | tee "$out"
