#!/usr/bin/env bash
# `make sanitize`: the gateway built with ThreadSanitizer, then with AddressSanitizer, each
# started SANITIZE_RUNS times (default 200) with a crowd connecting the instant the port opens and
# the start-up warm-up off. Exits non-zero when a sanitizer reports anything or a start crashes.
# Reports of failed runs stay in sanitizer-reports/{thread,address}/.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${SANITIZE_RUNS:-200}"
status=0
for sanitizer in ${SANITIZERS:-thread address}; do
    swift build --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" --product gateway
    # halt_on_error=0: every report of a run is kept, not only the first.
    export TSAN_OPTIONS="halt_on_error=0 history_size=4 second_deadlock_stack=1"
    export ASAN_OPTIONS="detect_leaks=0 halt_on_error=0"
    echo "== $sanitizer: $RUNS starts"
    python3 Benchmarks/sanitize/crowd_start.py --binary ".build-$sanitizer/debug/gateway" --runs "$RUNS" \
        --reports "sanitizer-reports/$sanitizer" || status=1
done
# The runtime crash the start-up warm-up exists for, with NIO alone (reported, not judged).
echo "== Swift runtime metadata race (Benchmarks/MetadataRaceRepro)"
RUNS="${REPRO_RUNS:-1000}" Benchmarks/MetadataRaceRepro/run.sh 2>/dev/null || true
exit $status
