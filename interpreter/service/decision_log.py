"""The opt-in decision log (``policy serve --decision-log FILE``): every decision appended
with its id, timestamp, policy hash, engine version, on-date, input facts and outputs."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from ..language.values import json_default
from ..policy.model import Policy
from ..runtime.versions import CALENDAR_VERSION, ENGINE_VERSION


class DecisionLog:
    """Append-only record of decisions: id, policy hash, input, output, timestamp.
    A ``.sqlite``/``.db`` path is a SQLite table ``decisions``; anything else is JSONL."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        self.sqlite = self.path.suffix.lower() in (".sqlite", ".sqlite3", ".db")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.sqlite:
            self.db = sqlite3.connect(str(self.path), check_same_thread=False)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS decisions (decision_id TEXT PRIMARY KEY, "
                "timestamp TEXT, policy TEXT, policy_hash TEXT, engine_version TEXT, "
                "on_date TEXT, input TEXT, output TEXT, calendar_version TEXT)"
            )
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(decisions)")}
            if "calendar_version" not in columns:  # a log begun before the column existed
                self.db.execute("ALTER TABLE decisions ADD COLUMN calendar_version TEXT")
            self.db.commit()
        else:
            self.handle = self.path.open("a", encoding="utf-8")

    def record(self, policy: Policy, on: dt.date, facts: Any, outputs: dict[str, Any]) -> str:
        decision_id = str(uuid.uuid4())
        entry = {
            "decision_id": decision_id,
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "policy": policy.id,
            "policy_hash": policy.content_hash,
            "engine_version": ENGINE_VERSION,
            "calendar_version": CALENDAR_VERSION,
            "on": on.isoformat(),
            "input": facts,
            "output": outputs,
        }
        with self.lock:
            if self.sqlite:
                self.db.execute(
                    "INSERT INTO decisions (decision_id, timestamp, policy, policy_hash, "
                    "engine_version, on_date, input, output, calendar_version) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        decision_id,
                        entry["timestamp"],
                        policy.id,
                        policy.content_hash,
                        ENGINE_VERSION,
                        entry["on"],
                        _dumps(facts),
                        _dumps(outputs),
                        CALENDAR_VERSION,
                    ),
                )
                self.db.commit()
            else:
                self.handle.write(_dumps(entry) + "\n")
                self.handle.flush()
        return decision_id

    def close(self) -> None:
        if self.sqlite:
            self.db.close()
        else:
            self.handle.close()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_default)
