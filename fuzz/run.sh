#!/bin/sh
# Build a libFuzzer target and run it.
#   sh fuzz/run.sh [RUNS] [TARGET]   (make fuzz [RUNS=n] [FUZZ_TARGET=t];
#                                     default 10,000,000 runs)
# TARGET (or $FUZZ_TARGET) is dsl (default: the expression-language parser,
# fuzz/dsl_fuzz.c, seeds in fuzz/corpus) or template (the template-language
# parser, fuzz/template_fuzz.c, seeds in fuzz/template_corpus).
# Installs clang and its runtimes if missing (test/deps.sh fuzz), builds
# fuzz/out/<target>_fuzz (fuzz/Makefile), runs RUNS executions over the kept
# seed corpus plus the working corpus fuzz/out/corpus (dsl) or
# fuzz/out/template_corpus (new inputs go there; fuzz/out/ is ignored by
# git), then prints a one-line summary.
# Exits non-zero on a crash, leak, timeout, out-of-memory, sanitizer report
# or harness failure (the input is saved as fuzz/out/crash-*, leak-*, ...),
# and on text defects (an error text that is not valid UTF-8; the shortest
# input is saved as fuzz/out/text-defect).  Reproduce one with
#   DSL_FUZZ_PRINT=1 fuzz/out/dsl_fuzz fuzz/out/crash-...
#   TEMPLATE_FUZZ_PRINT=1 fuzz/out/template_fuzz fuzz/out/crash-...
# Extra libFuzzer options can be given in FUZZ_ARGS (e.g. FUZZ_ARGS=-seed=1).
set -eu

cd "$(dirname "$0")/.."
runs=${1:-10000000}
target=${2:-${FUZZ_TARGET:-dsl}}
case "$runs" in
  ''|*[!0-9]*) echo "usage: $0 [RUNS] [dsl|template]" >&2; exit 2 ;;
esac
case "$target" in
  dsl)      seeds=fuzz/corpus; work=corpus; dict=fuzz/dsl.dict; envp=DSL ;;
  template) seeds=fuzz/template_corpus; work=template_corpus; dict=fuzz/template.dict; envp=TEMPLATE ;;
  *) echo "usage: $0 [RUNS] [dsl|template]" >&2; exit 2 ;;
esac
bin=${target}_fuzz

sh test/deps.sh fuzz
make -s -C fuzz "out/$bin"

out=fuzz/out
log=$out/run.log
mkdir -p "$out/$work"
rm -f "$out/text-defect" "$log"

symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export "${envp}_FUZZ_DEFECT_FILE=$out/text-defect"

echo "fuzz: $out/$bin, $runs executions, log in $log"
start=$(date +%s)
# shellcheck disable=SC2086
"$out/$bin" -runs="$runs" -max_len=4096 -dict="$dict" -timeout=10 \
	-rss_limit_mb=2048 -artifact_prefix="$out/" -print_final_stats=1 \
	${FUZZ_ARGS:-} "$out/$work" "$seeds" > "$log" 2>&1 &
pid=$!
# a progress line a minute
tick=0
while kill -0 "$pid" 2>/dev/null; do
	sleep 1
	tick=$((tick + 1))
	if [ $((tick % 60)) -eq 0 ]; then
		line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
		[ -z "$line" ] || echo "fuzz: ${line%% lim:*}"
	fi
done
set +e
wait "$pid"
rc=$?
set -e
end=$(date +%s)

# libFuzzer: "#N DONE cov: C ft: F corp: K/S ..."; the harness: "<bin>: ..."
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
[ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
defects=$(grep "^$bin: [0-9]* inputs" "$log" | sed -n 's/.* \([0-9]*\) text defects.*/\1/p' | tail -n 1)
secs=$((end - start))
[ "$secs" -gt 0 ] || secs=1
: "${execs:=0}" "${defects:=0}"
crashes=0
[ "$rc" -eq 0 ] || crashes=1

grep "^$bin: [0-9]* inputs" "$log" | tail -n 1 || true
echo "fuzz: $execs executions in $secs s ($((execs / secs))/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, crashes $crashes, text defects $defects"

if [ "$rc" -ne 0 ]; then
	echo "fuzz: FAILED (exit $rc); the end of $log:" >&2
	grep -v '^#[0-9]' "$log" | tail -n 60 >&2
	ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null >&2 || true
	exit 1
fi
if [ "$defects" -ne 0 ]; then
	echo "fuzz: FAILED: $defects error texts that are not valid UTF-8; shortest input: $out/text-defect" >&2
	env "${envp}_FUZZ_DEFECT_FILE=" "$out/$bin" "$out/text-defect" 2>&1 |
		grep -a -A 1 "^$bin: text defect" | head -n 2 >&2 || true
	exit 1
fi
