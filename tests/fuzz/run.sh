#!/usr/bin/env bash
# `make fuzz`: builds tests/fuzz/fuzz_request.c with Debian's clang
# (libFuzzer + ASan + UBSan) into build-fuzz/ and runs it for a bounded time
# (FUZZ_SECONDS, default 60) from the seed corpus in tests/fuzz/corpus/.
# New interesting inputs go to build-fuzz/corpus/, crashes to build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_MAX="${FUZZ_SECONDS:-60}"
BUILD=build-fuzz
CLANG="${CLANG:-clang}"
command -v "$CLANG" >/dev/null || { echo "fuzz: clang not found (deploy/install-deps.sh installs it)"; exit 1; }

objs=$(find server -name '*.c' ! -path server/main.c | sort | sed "s|^|$BUILD/obj/|; s|\.c$|.o|")
make --no-print-directory -j"$(nproc)" CC="$CLANG" BUILD="$BUILD" SANITIZE=address,undefined \
  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link -Wno-error" \
  $objs "$BUILD/obj/gen/migrations_gen.o" "$BUILD/obj/gen/data_gen.o" >/dev/null

# llhttp itself is instrumented too, so the fuzzer sees the parser's states.
mkdir -p "$BUILD/llhttp-fuzz"
for f in llhttp api http; do
  if [ ! "$BUILD/llhttp-fuzz/$f.o" -nt /usr/share/llhttp/$f.c ]; then
    "$CLANG" -std=c11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -I/usr/share/include/llhttp \
      -c /usr/share/llhttp/$f.c -o "$BUILD/llhttp-fuzz/$f.o"
  fi
done

"$CLANG" -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
  -Iserver -I/usr/share/include/llhttp -o "$BUILD/fuzz_request" tests/fuzz/fuzz_request.c \
  $objs "$BUILD"/obj/gen/*.o "$BUILD"/llhttp-fuzz/*.o \
  -luv -lsqlite3 -lcjson -lsodium -lcrypto -lxlsxwriter -lm -lpthread

mkdir -p "$BUILD/corpus"
echo "fuzz: running fuzz_request for ${SECONDS_MAX}s"
"$BUILD/fuzz_request" -max_total_time="$SECONDS_MAX" -max_len=65536 -timeout=10 \
  -artifact_prefix="$BUILD/" -print_final_stats=1 "$BUILD/corpus" tests/fuzz/corpus
