#!/usr/bin/env bash
# Builds the codec fuzzer (libFuzzer + AddressSanitizer, opt-in with GATEWAY_FUZZ=1) and runs it
# for a bounded time on a seed corpus of real packets. Prints libFuzzer's execution count.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${FUZZ_SECONDS:-120}"
toolchain_lib="$(dirname "$(readlink -f "$(command -v swift)")")/../lib"
GATEWAY_FUZZ_LIB="$(ls "$toolchain_lib"/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a "$toolchain_lib"/swift/clang/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)"
export GATEWAY_FUZZ_LIB
GATEWAY_FUZZ=1 swift build -c release --product CodecFuzzer --scratch-path .build-fuzz
corpus=fuzz-corpus
mkdir -p "$corpus"
i=0
for seed in '0' '40' '0{"token":"123"}' '40/admin,{"token":"x"}' '42["message",1,"2",{"3":[true]}]' \
    '452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]' '43456[1,"2",{"3":[false]}]' \
    '2probe' '3probe' 'bAQIDBA==' '4hello' '5' '6' '1' '44/random,{"message":"Invalid namespace"}' \
    '{"a":[1,2.5e-3,true,null,"\u00e9\ud83d\ude00"]}' '42/prices,7["subscribe",{"symbols":["BTC/USDT"]}]'; do
    printf '%s' "$seed" > "$corpus/seed-$i"; i=$((i+1))
done
.build-fuzz/release/CodecFuzzer "$corpus" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -print_final_stats=1 2>&1 | tail -25
