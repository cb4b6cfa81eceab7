"""The bare denominator: a Flask view returning a small JSON, nothing else (no database, no session, no portal).

Served by the same gunicorn settings as the portal in a benchmark, it measures what the machine, gunicorn and
Flask cost by themselves, so a benchmark can report its figure as a share of this one: ratios measured side by side
in one run, because absolute figures drift on shared machines.

    gunicorn --workers 4 --pythonpath benchmarks bare_app:app
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")
