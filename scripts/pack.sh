#!/usr/bin/env bash
# Packs the library assemblies (also: dotnet cake --target=Pack) as NuGet packages into out/nuget: Codesign.Runtime and what it depends on
# (Codesign.IR, Codesign.Compiler, Codesign.Backends.Cpu, Codesign.Backends.Gpu), one version for all.
# Use: dotnet nuget add source "$PWD/out/nuget" -n codesign-local && dotnet add package Codesign.Runtime --version 0.7.0
set -euo pipefail
cd "$(dirname "$0")/.."
for project in ir/Codesign.IR compiler/Codesign.Compiler backends/Codesign.Backends.Cpu backends/Codesign.Backends.Gpu runtime/Codesign.Runtime; do
  dotnet pack -c Release --nologo -v quiet -o out/nuget "$project/$(basename "$project").csproj"
done
ls -l out/nuget
