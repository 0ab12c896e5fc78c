#!/usr/bin/env bash
# Autogenerate the next Alembic revision of one service against a scratch SQLite database
# brought to head first. Usage: scripts/new-migration.sh SERVICE "message"
set -euo pipefail
svc=${1:?service}; msg=${2:?message}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $root/services/$svc/migrations
sqlalchemy.url = sqlite:///$tmp/scratch.db
INI
n=$(find "$root/services/$svc/migrations/versions" -name '[0-9]*.py' 2>/dev/null | wc -l)
rev=$(printf '%04d' $((n + 1)))
"$root/.venv/bin/alembic" -c "$tmp/alembic.ini" upgrade head
"$root/.venv/bin/alembic" -c "$tmp/alembic.ini" revision --autogenerate -m "$msg" --rev-id "$rev"
