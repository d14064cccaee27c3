#!/usr/bin/env bash
# Builds, self-contained for linux-x64 (a CUDA machine needs no .NET), into out/gpu-bench.tar.gz: the benchmark driver,
# and the gpu test suite with a runner for it (benchmarks/Codesign.GpuTestRunner; the two apps share one folder of runtime
# files, which keeps the tarball within what a device run carries). On that machine scripts/gpu-device-check.sh runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf out/gpu-bench
publish() { dotnet publish "$1" -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false -o out/gpu-bench; }
publish benchmarks/Codesign.Benchmarks
publish benchmarks/Codesign.GpuTestRunner
dotnet build tests/Codesign.Backends.Gpu.Tests -c Release
cp tests/Codesign.Backends.Gpu.Tests/bin/Release/net10.0/Codesign.Backends.Gpu.Tests.dll out/gpu-bench/
tar -C out -czf out/gpu-bench.tar.gz gpu-bench
ls -la out/gpu-bench.tar.gz
