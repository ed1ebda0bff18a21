"""Events and tasks leave only after commit, through the real Redis and a real Celery worker."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import Engine, func, select

from core.celery_app import enqueue_after_commit
from core.db import session_scope
from core.events import CHANNEL_PREFIX, OutboxEvent, emit, relay
from core.redis import get_redis
from core.tasks import ping


def _next_message(pubsub, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            return message
    return None


def test_relay_publishes_committed_events_once(committed_db: Engine) -> None:
    client = get_redis()
    pubsub = client.pubsub()
    pubsub.subscribe(CHANNEL_PREFIX + "order.placed")
    with session_scope() as session:
        emit(session, "order.placed", {"order": "A-1"})
    with session_scope() as session:
        assert relay(session, client) == 1
    with session_scope() as session:
        assert relay(session, client) == 0  # already published
    message = _next_message(pubsub)
    assert message is not None
    assert json.loads(message["data"])["payload"] == {"order": "A-1"}
    pubsub.close()


def test_a_rolled_back_change_emits_nothing(committed_db: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        emit(session, "order.placed", {"order": "B-2"})
        raise RuntimeError("the use case failed after emitting")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_a_real_worker_runs_tasks(celery_worker) -> None:
    result = ping.apply_async(args=["hello"])
    assert result.get(timeout=20) == "hello"


def test_tasks_are_sent_only_after_commit(committed_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    signature = ping.si("after-commit")
    monkeypatch.setattr(type(signature), "apply_async", lambda self, *a, **k: sent.append(self.args[0]))

    with session_scope() as session:
        enqueue_after_commit(session, signature)
        emit(session, "x", {})
        assert sent == []  # still inside the transaction
    assert sent == ["after-commit"]

    with pytest.raises(RuntimeError), session_scope() as session:
        enqueue_after_commit(session, ping.si("rolled-back"))
        raise RuntimeError("boom")
    assert sent == ["after-commit"]
