#!/usr/bin/env bash
# bench/image/run.sh: a cold build of //images:debian15 against debootstrap + apt-get install of
# the same package set into a chroot, from the same mirror, in the same run; then the no-op
# rebuild. Results go to bench/image/results.txt.
#
# "Cold" for Bazel: every .deb downloaded into an empty repository cache (timed as `bazel fetch`),
# then every layer and image action run from nothing, with imagetool already built, just as
# apt-get and debootstrap are already installed on the other side. The fully cold build
# (compiling the Go toolchain's stdlib and imagetool too) is reported as well.
set -euo pipefail
ws=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$ws"
bazel=$ws/tools/bazel
out=$ws/bench/image/results.txt
cache=${CI_IMAGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ci-images}
work=$cache/bazel-root/bench-work # under the output root: visible inside the offline chroot too
# shellcheck source=tools/lib/mirror.sh
. "$ws/tools/lib/mirror.sh"
mirror=$(mirror_main) || { echo "bench: no Debian mirror in apt's sources" >&2; exit 1; }
set_name=debian15
requests=$(python3 -c 'import json; print(" ".join(r for r in json.load(open("images/debian15/packages.json"))["requests"]))')
npkgs=$(python3 -c 'import json; print(len(json.load(open("images/apt.lock.json"))["sets"]["debian15"]))')
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

rm -rf "$work" && mkdir -p "$work"
echo "bench: debootstrap --variant=minbase bookworm + apt-get install --no-install-recommends ($requests)" >&2
t=$(now)
debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1
t_deboot=$(since "$t")
t=$(now)
chroot "$work/root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $requests >"$work/apt.log" 2>&1
t_apt=$(since "$t")
apt_total=$(python3 -c "print(f'{$t_deboot + $t_apt:.1f}')")
apt_pkgs=$(chroot "$work/root" dpkg-query -W -f '${Package}\n' | wc -l)
rm -rf "$work/root"

ob=$cache/bazel-root/bench-image-ob
b() { "$bazel" --output_base="$ob" "$@"; }
echo "bench: priming a fresh output base with the Go toolchain and imagetool's dependencies" >&2
b build --repository_cache="$work/repos" //tools/cmd/imagetool >"$work/prime-tools.log" 2>&1
echo "bench: downloading the set's .debs into the empty repository cache (bazel fetch)" >&2
t=$(now)
b fetch --repository_cache="$work/repos" "//images:$set_name" >"$work/fetch.log" 2>&1
t_fetch=$(since "$t")
echo "bench: building the image once (imagetool for the exec configuration)" >&2
b build --repository_cache="$work/repos" "//images:$set_name" >"$work/prime.log" 2>&1
# Delete every output of //images: Bazel re-runs exactly the layer and image actions (their
# outputs are gone) and keeps the cached toolchain and imagetool.
rm -rf "$ob/execroot/_main/bazel-out/k8-fastbuild/bin/images"
echo "bench: cold build of //images:$set_name (every layer and image action runs)" >&2
t=$(now)
b build --repository_cache="$work/repos" "//images:$set_name" >"$work/cold.log" 2>&1
t_cold=$(since "$t")
t=$(now)
b build --repository_cache="$work/repos" "//images:$set_name" >"$work/noop.log" 2>&1
t_noop=$(since "$t")
b clean --expunge >/dev/null 2>&1
echo "bench: fully cold build (fresh output base: toolchain, imagetool, layers; debs from the repository cache)" >&2
t=$(now)
b build --repository_cache="$work/repos" "//images:$set_name" >"$work/full.log" 2>&1
t_full=$(since "$t")
digest=$(cat "$ob/execroot/_main/bazel-out/k8-fastbuild/bin/images/$set_name.digest")
b shutdown >/dev/null 2>&1 || true
: >"$work/summary.txt"
for f in cold noop full; do
	grep -E '^INFO: ([0-9]+ processes|Elapsed|Critical)|imagetool (layer|image):' "$work/$f.log" | sed "s/^/$f: /" >>"$work/summary.txt" || true
done
rm -rf "$ob" "$work/repos"

t_total=$(python3 -c "print(f'{$t_fetch + $t_cold:.1f}')")
ratio=$(python3 -c "print(f'{$apt_total / $t_total:.1f}')")
{
	echo "# bench/image/run.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, same mirror, same run"
	echo "set: $set_name ($npkgs locked packages; apt installed $apt_pkgs incl. its base system)"
	echo "debootstrap minbase bookworm:            ${t_deboot} s"
	echo "apt-get install --no-install-recommends: ${t_apt} s"
	echo "debootstrap + apt-get total:             ${apt_total} s"
	echo "bazel: download of the debs:            ${t_fetch} s"
	echo "bazel: cold build of the image:          ${t_cold} s"
	echo "bazel: download + cold build total:      ${t_total} s   -> ${ratio}x the speed of debootstrap + apt-get"
	echo "bazel no-op rebuild:                     ${t_noop} s"
	echo "bazel fully cold (tools compiled too):   ${t_full} s"
	echo "image digest: $digest"
	cat "$work/summary.txt"
} | tee "$out"
