#!/usr/bin/env bash
# Runs on a lent CUDA machine (it has no .NET): the gpu test suite under CUDA, the GEMV table, the differential checks
# and 7B decode, each into $OUT (what a device run brings back). Prepare here with scripts/publish-gpu-bench.sh, then
# run this with out/gpu-bench.tar.gz carried (the device tool's `carry`), in one call: every start of a machine costs
# minutes of the session's device time. Steps are ordered by what the issue needs first, each under its own timeout,
# so a slow one cannot take the others' time.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/device}
mkdir -p "$out"
tar -C /tmp -xzf out/gpu-bench.tar.gz
bin=/tmp/gpu-bench
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 CODESIGN_GPU_TESTS=cuda
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory --format=csv > "$out/gpu.txt" 2>&1
step() {
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s): $*" | tee -a "$out/summary.txt"
  local start=$SECONDS
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1
  echo "   exit $? after $((SECONDS - start)) s" | tee -a "$out/summary.txt"
}
step gpu-gemv 120 "$bin/Codesign.Benchmarks" gpu-gemv
step gpu-tests 150 "$bin/Codesign.GpuTestRunner"
step gpu-check 90 "$bin/Codesign.Benchmarks" gpu-check examples/tiny-llama-a examples/recipes
step gpu-decode-7b 180 "$bin/Codesign.Benchmarks" gpu-decode-7b 32
tail -n 3 "$out"/gpu-tests.txt "$out"/gpu-check.txt 2>/dev/null
cat "$out/gpu-gemv.txt" "$out/gpu-decode-7b.txt" 2>/dev/null | grep -E '^\||device:'
