.PHONY: setup run test test-suite lint benchmark

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run.sh

# The whole suite: lint, migrations check (inside pytest) and every test, on SQLite unless DATABASE_URL says otherwise.
test: setup test-suite

test-suite:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/pytest -n 2 --dist loadfile

benchmark: setup
	.venv/bin/python benchmarks/ingest_vs_coreutils.py
