#!/usr/bin/env bash
# The one command that installs the project and runs every check CI runs:
#   install (editable, with the test extras) -> Chromium for the browser tests -> PostgreSQL up + a fresh test database ->
#   ruff -> mypy -> import-linter -> pytest (SQLite and PostgreSQL).
# Extra arguments go to pytest (e.g. scripts/test.sh tests/integration -x).
# PGHOST / PGPORT / PGUSER point it at another PostgreSQL server (default 127.0.0.1:5432, postgres).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1

step "Installing helpdesk-bot with its test tools (pip install -e '.[test]')"
python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    # the web widget's and dashboard's browser tests drive real headless Chromium
    step "Installing Chromium and its driver (apt-get install chromium chromium-driver)"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -qq chromium chromium-driver >/dev/null ||
            { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
    else
        echo "not root: install chromium and chromium-driver, or the browser tests are skipped" >&2
    fi
fi

step "Checking PostgreSQL at ${PGHOST}:${PGPORT}"
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
    step "Starting PostgreSQL"
    for cluster in /etc/postgresql/*/main; do
        version="$(basename "$(dirname "$cluster")")"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 60); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
        sleep 0.5
    done
    pg_isready -h "$PGHOST" -p "$PGPORT"
fi

TEST_DB="helpdesk_test_$$_${RANDOM}"
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
drop_test_databases() {
    # Our database and any per-test database the fixtures left behind (they are prefixed by it).
    psql_admin -At -c "SELECT datname FROM pg_database
                       WHERE left(datname, length('${TEST_DB}')) = '${TEST_DB}'" 2>/dev/null |
        while read -r name; do
            [ -n "$name" ] && psql_admin -c "DROP DATABASE IF EXISTS \"${name}\" WITH (FORCE)" || true
        done
}
step "Creating the test database ${TEST_DB}"
psql_admin -c "CREATE DATABASE \"${TEST_DB}\""
trap drop_test_databases EXIT
export HELPDESK_TEST_POSTGRES_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${TEST_DB}"

step "ruff check ."
ruff check .

step "mypy"
mypy

step "lint-imports (import contracts)"
lint-imports

step "pytest (SQLite and PostgreSQL: ${HELPDESK_TEST_POSTGRES_URL})"
status=0
# one worker per core (2 here), each file on one worker so module fixtures are built once;
# the slowest tests are listed so a slow one is found before it adds up
workers="${HELPDESK_TEST_WORKERS:-$(nproc)}"
HF_HUB_OFFLINE=1 python -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile \
    --durations=20 "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    exit "$status"
fi

step "All checks passed"
