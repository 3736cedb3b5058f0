# Conveniences for developers; the README's two commands need nothing but Python.
.PHONY: install test lint bench bench-deps demo

install:
	python3 -m venv .venv && .venv/bin/pip install -e '.[test,bench]'

test:
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:
	.venv/bin/python benchmarks/ledger_bench.py

# wrk drives benchmarks/http_bench.py; Debian packages it. apt-get needs root, hence sudo when not.
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends wrk; }
	@wrk --version 2>&1 | head -n 1

demo:
	.venv/bin/hongbao demo
