#!/usr/bin/env bash
# Starts the demo: migrate, keys, demo data, static files, then the django-q2 cluster and the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-evidencemedia.settings.local}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
py=.venv/bin/python

$py manage.py migrate --no-input -v0
$py manage.py custody_keygen
$py manage.py keys init
$py manage.py collectstatic --no-input -v0
EVIDENCEMEDIA_DEMO_URL="http://$HOST:$PORT/" $py manage.py seed_demo

$py manage.py taskcluster &
cluster=$!
trap 'kill $cluster 2>/dev/null || true' EXIT INT TERM

echo
echo "Evidence Media is running at http://$HOST:$PORT/  (Ctrl-C stops the web server and the task cluster)"
$py manage.py runserver "$HOST:$PORT" --noreload
