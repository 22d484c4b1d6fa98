# tools/lib/mirror.sh: this machine's Debian mirror, read at run time from apt's own sources.
# Sourced (not run) by tools/bazel, tools/mirror-config, tools/check and the bench scripts, so
# that the mirror is discovered in one place. No host name is ever written into the tree.
#
#   mirror_uris      every URI apt uses, one a line: deb822 URIs: fields of
#                    /etc/apt/sources.list.d/debian.sources (or $MIRROR_SOURCES), else the
#                    one-line sources.list format
#   mirror_main      the first URI that is not a -security archive
#   mirror_security  the first -security URI
#   mirror_hosts_re  the mirror hosts as an extended regexp alternation, to mask them in output

mirror_uris() {
	local src=${MIRROR_SOURCES:-/etc/apt/sources.list.d/debian.sources}
	if [ -r "$src" ] && grep -q '^URIs:' "$src"; then
		awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' "$src"
	elif [ -r /etc/apt/sources.list ]; then
		awk '$1 == "deb" {print ($2 ~ /^\[/) ? $3 : $2}' /etc/apt/sources.list
	fi
}

# mirror_pick security|main: the first URI that is (or is not) a -security archive.
mirror_pick() {
	local u kind
	for u in $(mirror_uris); do
		u=${u%/} kind=main
		[[ $u == *-security ]] && kind=security
		[ "$kind" = "$1" ] && echo "$u" && return 0
	done
	return 1
}

mirror_main() { mirror_pick main; }
mirror_security() { mirror_pick security; }

mirror_hosts_re() {
	mirror_uris | sed -E 's#^[a-z]+://##; s#[/:].*##' | sort -u | paste -sd'|'
}
