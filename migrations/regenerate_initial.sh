#!/usr/bin/env bash
# Until the first production release, the core schema is one revision (0001) regenerated from the core
# models (services switched off, so their tables stay in their own revisions).
# After that release this script goes away and every schema change gets a revision of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
# Helpers may run this at the same time: one at a time.
exec 9>/tmp/stadtportal-regenerate.lock
flock 9
tmp=$(mktemp -d)
trap 'mv "$tmp"/versions/*.py migrations/versions/ 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/versions"
for f in migrations/versions/*.py; do
  case "$(basename "$f")" in 0001_*) rm "$f" ;; *) mv "$f" "$tmp/versions/" ;; esac
done
STADTPORTAL_SERVICES="" STADTPORTAL_ENV=development DATABASE_URL="sqlite:///$tmp/empty.sqlite" \
  .venv/bin/flask --app wsgi db migrate -m "core schema" --rev-id 0001 2>&1 | tail -1
