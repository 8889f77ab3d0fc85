#!/usr/bin/env bash
# Builds the reproducer (debug, as the gateway's tests run) and starts it RUNS times (default
# 2,000); prints how many processes crashed. Nothing listens, nothing connects.
set -euo pipefail
cd "$(dirname "$0")"
swift build --product MetadataRaceRepro > /dev/null
RUNS="${RUNS:-2000}"
crashed=0
log=$(mktemp)
for _ in $(seq "$RUNS"); do
    # A crash that hangs in the runtime's backtracer is ended (and counted) after 30 s.
    if ! timeout 30 .build/debug/MetadataRaceRepro "${THREADS:-4}" > "$log" 2>&1; then
        crashed=$((crashed + 1))
        # The first crash's backtrace: where it crashed, and what the other threads were doing.
        if [ "$crashed" = 1 ]; then
            grep -E "crashed|swift_checkMetadataState|getGenericMetadata|configureUpgradable|Bad pointer" "$log" | head -12 || true
        fi
    fi
done
rm -f "$log"
echo "$RUNS processes, $crashed crashed"
