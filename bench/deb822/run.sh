#!/usr/bin/env bash
# bench/deb822/run.sh: pault.ag/go/debian v0.19.0 (control, version, dependency) against
# tools/deb822, tools/debversion and aptrepo.ParsePackage on the full bookworm main amd64
# Packages index, fetched from this machine's Debian mirror (tools/lib/mirror.sh); writes
# bench/deb822/results.txt. bench/deb822 is its own Go module (go.mod with a replace of the
# repository), so pault.ag/go/debian is a dependency of this benchmark only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=tools/lib/mirror.sh
. tools/lib/mirror.sh
out=bench/deb822/results.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mirror=$(mirror_main)
curl -fsS -o "$tmp/Packages.xz" "$mirror/dists/bookworm/main/binary-amd64/Packages.xz"
xz -dc "$tmp/Packages.xz" >"$tmp/Packages"
(cd bench/deb822 && go build -o "$tmp/bench" .)
{
	echo "# bench/deb822 results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "# index: bookworm main binary-amd64 Packages, sha256 $(sha256sum <"$tmp/Packages" | cut -c1-64)"
	echo
	"$tmp/bench" -packages "$tmp/Packages" -count "${COUNT:-5}"
} 2>&1 | sed -E -e "s#$(mirror_hosts_re)#<mirror>#g" | tee "$out"
