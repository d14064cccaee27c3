#!/usr/bin/env bash
# Runs every test project (after scripts/setup.sh, or on its own: it restores what it needs).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore
dotnet cake --target=Test "$@"
