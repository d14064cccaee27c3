#!/usr/bin/env bash
# Builds the benchmark driver self-contained for linux-x64 (a CUDA machine needs no .NET) into out/gpu-bench.tar.gz.
# On that machine: tar xzf gpu-bench.tar.gz && ./gpu-bench/Codesign.Benchmarks gpu-gemv   (or gpu-decode-7b, gpu-check)
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf out/gpu-bench
dotnet publish benchmarks/Codesign.Benchmarks -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false -o out/gpu-bench
tar -C out -czf out/gpu-bench.tar.gz gpu-bench
ls -la out/gpu-bench.tar.gz
