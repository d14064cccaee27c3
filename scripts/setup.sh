#!/usr/bin/env bash
# Installs what Codesign needs on Debian 12 with the .NET 10 SDK: Java (runs the ANTLR tool),
# Node.js + npm (fetch the ANTLR tool jar), libLLVM-15 (the cpu backend's code generator), binutils (ld links
# ahead-of-time cpu kernels into an artifact's shared object), Verilator and Yosys (the fpga backend), the Cake
# build tool, NuGet packages; then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v ld >/dev/null 2>&1 || need+=(binutils)
ldconfig -p 2>/dev/null | grep -q 'libLLVM-15\.so\.1' || [ -e /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1 ] || need+=(libllvm15)
# The fpga backend: Verilator lints and simulates the generated RTL (it compiles C++ with g++ and make), Yosys
# synthesises it for the resource report.
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi
command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is not on PATH" >&2; exit 1; }

npm ci --no-audit --no-fund
dotnet tool restore
dotnet build Codesign.sln -c Release
