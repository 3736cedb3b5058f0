# Conveniences for developers; the README's two commands need nothing but Python.
.PHONY: install test lint bench demo

install:
	python3 -m venv .venv && .venv/bin/pip install -e '.[test,bench]'

test:
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:
	.venv/bin/python benchmarks/ledger_bench.py

demo:
	.venv/bin/hongbao demo
