"""The opt-in decision log (``policy serve --decision-log FILE``): every decision appended
with its id, timestamp, policy hash, engine version, on-date, input facts and outputs.

Only answered decisions are logged: a request's decisions are prepared by its worker and
written, all in one write, after the worker has finished within the time limit."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from ..language.values import json_default
from ..policy.model import Policy
from ..runtime.versions import CALENDAR_VERSION, ENGINE_VERSION


@dataclass(frozen=True)
class Decision:
    """One decision as it will be written: a JSONL line (UTF-8), or a row of the SQLite
    table."""

    decision_id: str
    entry: bytes | tuple[str, ...]


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
            self.handle = self.path.open("ab")  # UTF-8, as the entries are encoded

    def prepare(self, policy: Policy, on: dt.date, facts: Any, outputs: dict[str, Any]) -> Decision:
        """A decision ready to be written (its id assigned), written by ``write`` only once
        the request that made it is answered."""
        return self.prepare_many(policy, on, [(facts, outputs)])[0]

    def prepare_many(
        self, policy: Policy, on: dt.date, answered: Sequence[tuple[Any, dict[str, Any]]]
    ) -> list[Decision]:
        """The decisions of one request's answered rows (input facts, outputs), made at one
        time: what every entry shares is serialized once."""
        timestamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        ids = _uuid4s(len(answered))
        if self.sqlite:
            shared = (policy.id, policy.content_hash, ENGINE_VERSION, on.isoformat())
            return [
                Decision(
                    i,
                    (i, timestamp, *shared, _text(facts), _text(out), CALENDAR_VERSION),
                )
                for i, (facts, out) in zip(ids, answered, strict=True)
            ]
        # exactly json.dumps of {"decision_id", "timestamp", "policy", "policy_hash",
        # "engine_version", "calendar_version", "on", "input", "output"}, in that order
        middle = _dumps(
            {
                "timestamp": timestamp,
                "policy": policy.id,
                "policy_hash": policy.content_hash,
                "engine_version": ENGINE_VERSION,
                "calendar_version": CALENDAR_VERSION,
                "on": on.isoformat(),
            }
        )
        head = ('", ' + middle[1:-1] + ", ").encode("utf-8")
        return [  # one encoder call a decision: b'{"input": ..., "output": ...}'
            Decision(
                i,
                b'{"decision_id": "'
                + i.encode("ascii")
                + head
                + _json({"input": facts, "output": out})[1:]
                + b"\n",
            )
            for i, (facts, out) in zip(ids, answered, strict=True)
        ]

    def write(self, decisions: Sequence[Decision]) -> None:
        """Append the decisions of one request in one write: one ``write`` and one flush
        (JSONL), or one ``executemany`` and one commit (SQLite)."""
        if not decisions:
            return
        with self.lock:
            if self.sqlite:
                try:
                    self.db.executemany(
                        "INSERT INTO decisions (decision_id, timestamp, policy, policy_hash, "
                        "engine_version, on_date, input, output, calendar_version) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [d.entry for d in decisions],
                    )
                except BaseException:  # all of the request's decisions, or none
                    self.db.rollback()
                    raise
                self.db.commit()
            else:
                self.handle.write(
                    b"".join(d.entry for d in decisions if isinstance(d.entry, bytes))
                )
                self.handle.flush()

    def record(self, policy: Policy, on: dt.date, facts: Any, outputs: dict[str, Any]) -> str:
        """Prepare and write one decision; its id."""
        decision = self.prepare(policy, on, facts, outputs)
        self.write([decision])
        return decision.decision_id

    def close(self) -> None:
        if self.sqlite:
            self.db.close()
        else:
            self.handle.close()


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=json_default)
_MSGSPEC = msgspec.json.Encoder()
_SCALARS = frozenset({str, int, bool, type(None)})
_SPECIAL = frozenset({Decimal, dt.date})  # json_default gives a str or an int
_CONVERTED = _SCALARS | _SPECIAL


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _json(value: dict[str, dict[str, Any]]) -> bytes:
    """``_dumps(value)`` in UTF-8, byte for byte, for a dict of dicts with str keys (JSON
    objects, outputs by name); made by msgspec (about twice as fast) when every value of the
    inner dicts is a str, int, bool or None, or a Decimal or date (turned into what
    ``json_default`` gives first); else by json."""
    kinds: set[type] = set()
    for inner in value.values():
        if type(inner) is not dict:
            return _dumps(value).encode("utf-8")
        kinds.update(map(type, inner.values()))
    if not kinds <= _SCALARS:
        if not kinds <= _CONVERTED:
            return _dumps(value).encode("utf-8")
        value = {
            key: {k: json_default(v) if type(v) in _SPECIAL else v for k, v in inner.items()}
            for key, inner in value.items()
        }
    try:  # indent=0: one line, ", " and ": " as json.dumps writes them
        return msgspec.json.format(_MSGSPEC.encode(value), indent=0)
    except (UnicodeEncodeError, TypeError, OverflowError, msgspec.EncodeError):
        return _dumps(value).encode("utf-8")


def _text(value: Any) -> str:
    """One value as JSON text, as json.dumps writes it."""
    if type(value) is dict:
        return _json({"v": value})[6:-1].decode("utf-8")
    return _dumps(value)


def _uuid4s(n: int) -> list[str]:
    """n random (version 4) UUIDs, as ``str(uuid.uuid4())`` gives them, from one read of
    the system's randomness."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # RFC 4122 variant
    h = raw.hex()
    return [
        f"{h[k : k + 8]}-{h[k + 8 : k + 12]}-{h[k + 12 : k + 16]}-{h[k + 16 : k + 20]}-"
        f"{h[k + 20 : k + 32]}"
        for k in range(0, 32 * n, 32)
    ]
