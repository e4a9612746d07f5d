#!/usr/bin/env bash
# The whole test suite against the real PostgreSQL and Redis (README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy apps datapunk scripts
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
exec .venv/bin/pytest "$@"
