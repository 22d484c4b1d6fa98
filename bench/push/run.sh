#!/usr/bin/env bash
# bench/push/run.sh: //images:push_all into an empty registry and a second time, next to
# `docker push` of the same images loaded into the Docker engine, to the same registry (the CNCF
# distribution registry on 127.0.0.1, behind a loopback proxy counting the bytes sent), in the same
# run. Results go to bench/push/results.txt. The harness is tools/rules/pushtest (TestBenchmarkPush).
set -euo pipefail
ws=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$ws"
command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "bench: no Docker engine reachable" >&2; exit 1; }
CI_IMAGES_INTEGRATION=1 CI_IMAGES_PUSH_BENCH="$ws/bench/push/results.txt" \
	go test -count=1 -v -timeout 60m -run '^TestBenchmarkPush$' ./tools/rules/pushtest/ >&2
cat bench/push/results.txt
