#!/usr/bin/env bash
# Checks vnet-virt's SARIF with Microsoft's SARIF multitool and GitHub's rules
# (not part of npm test: a 100 MB self-contained .NET download). Prints the
# count of errors and warnings by rule; 0 is the goal.
#   bash scripts/sarif-multitool.sh [FOLDER-TO-LINT]   (default: fixtures/lint)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm install --prefix "$work" --no-save --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool >/dev/null
tool=$(find "$work/node_modules/@microsoft" -name Sarif.Multitool -type f | head -1)
chmod u+x "$tool"
node dist/src/cli/main.js lint --format sarif --automation-id vnet-virt/ "${1:-fixtures/lint}" > "$work/lint.sarif" || true
"$tool" validate --rule-kind "Gh;Sarif" "$work/lint.sarif" -o "$work/out.sarif" --log ForceOverwrite > "$work/report.txt" 2>&1 || true
grep -oE ': (error|warning) [A-Z]+[0-9]+' "$work/report.txt" | sort | uniq -c || true
echo "errors and warnings: $(grep -cE ': (error|warning) [A-Z]+[0-9]+' "$work/report.txt" || true)"
