"""`flask outbox run` as operators start it: a separate process that delivers until it is told to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.portal.mail.conftest import enqueue_committed, outbox_rows

ROOT = Path(__file__).resolve().parents[3]


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_delivers_until_sigterm_and_then_stops_cleanly(app, smtp_server, tmp_path):
    enqueue_committed("anna@example.org")
    env = {
        **os.environ,
        "STADTPORTAL_ENV": "test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "worker-key.pem"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
        "FLASK_APP": "wsgi",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "outbox", "run", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(lambda: len(smtp_server.messages) == 1), "the worker delivered nothing"
        # A message written while the worker runs is picked up by a later round.
        enqueue_committed("bernd@example.org")
        assert _wait_for(lambda: len(smtp_server.messages) == 2), "the worker stopped delivering"

        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    assert worker.returncode == 0, output
    assert "Postausgang: beendet." in output
    assert [row.status for row in outbox_rows()] == ["sent", "sent"]


def test_worker_refuses_to_start_without_mail_server(app, runner):
    app.config["MAIL_SERVER"] = ""

    result = runner.invoke(args=["outbox", "run"])

    assert result.exit_code == 2
    assert "MAIL_SERVER ist nicht gesetzt" in result.output
