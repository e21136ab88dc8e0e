"""A batch accounts for every row of its input: rows out + rows rejected = rows in, every
row numbered as in the input, every rejection naming its row and line; a byte that is not
UTF-8 rejects its own row and nothing else. The outputs and the errors file are one atomic
result: both written, or neither."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter import Repository, cli
from interpreter.batch import run as batch
from interpreter.batch.columns import _Codec
from interpreter.batch.writers import _Writer
from interpreter.policy import files

from .conftest import PENSION, POLICIES, REPO, WORKED_EXAMPLE

ON = dt.date(2021, 1, 1)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _case_facts() -> list[dict[str, Any]]:
    """The pension's hand-written YAML cases' facts (good and bad rows alike)."""
    return [dict(case.facts) for case in Repository(POLICIES).policy(PENSION).cases]


def _pension_csv(rows: int) -> bytes:
    """A CSV of ``rows`` data rows, the YAML cases' facts over and over."""
    names = list(Repository(POLICIES).policy(PENSION).facts)
    cases = _case_facts()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    for i in range(rows):
        writer.writerow([_cell(cases[i % len(cases)].get(n)) for n in names])
    return buffer.getvalue().encode("utf-8")


def _pension_jsonl(rows: int) -> bytes:
    cases = _case_facts()
    return "".join(
        json.dumps(cases[i % len(cases)], ensure_ascii=False, default=str) + "\n"
        for i in range(rows)
    ).encode("utf-8")


def _cli(*args: str) -> tuple[int, str]:
    """``policy`` in this process (no interpreter start-up): exit code and stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["--root", str(POLICIES), *args])
    return code, err.getvalue()


def _eval(source: Path, out: Path, *more: str) -> tuple[int, str]:
    return _cli(
        "eval", PENSION, "--batch", str(source), "--out", str(out), "--on", "2021-01-01", *more
    )


def _command(source: Path, out: Path) -> list[str]:
    """``policy eval --batch`` in a child process."""
    head = [sys.executable, "-m", "interpreter.cli", "--root", str(POLICIES), "eval", PENSION]
    return [*head, "--batch", str(source), "--out", str(out), "--on", "2021-01-01"]


def _output_rows(out: Path) -> list[dict[str, str]]:
    if out.suffix == ".csv":
        return list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _errors(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".part")]


# ----------------------------------------------------- what "rows in" means, independently


def _csv_rows_in(data: bytes) -> list[int] | None:
    """The file line of each data row of a CSV (the line its record ends on), or None when
    the header itself is unreadable or wrong."""
    text = data.decode("utf-8-sig", "surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[int] = []
    header = True
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            record = None
        if header:
            names = Repository(POLICIES).policy(PENSION).facts
            if (
                record is None
                or len(set(record)) != len(record)
                or any(_not_utf8(c) or c not in names for c in record)
            ):
                return None  # not a header: the file is refused
            header = False
            continue
        lines.append(reader.line_num)
    return lines


def _jsonl_rows_in(data: bytes) -> list[int]:
    return [
        number
        for number, line in enumerate(data.splitlines(keepends=True), start=1)
        if line.decode("utf-8", "surrogateescape").strip()
    ]


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _assert_every_row_accounted(
    source: Path, out: Path, errors: Path, code: int, stderr: str
) -> None:
    """rows out + rows rejected = rows in; every row number the input's; every rejection
    with its row and line; exit 0/1 (rows rejected)/2 (the file itself), one line, never
    a traceback or an internal error."""
    data = source.read_bytes()
    assert code in (0, 1, 2), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert not _leftovers(source.parent)
    lines = _csv_rows_in(data) if source.suffix == ".csv" else _jsonl_rows_in(data)
    if code == 2:
        assert lines is None, stderr  # only an unreadable header refuses the whole file
        assert not out.exists() and not errors.exists()
        return
    assert lines is not None, stderr
    out_rows = [int(r["row"]) for r in _output_rows(out)]
    rejected = _errors(errors)
    assert sorted(out_rows + [e["row"] for e in rejected]) == list(range(1, len(lines) + 1))
    assert out_rows == sorted(out_rows)
    assert [e["row"] for e in rejected] == sorted(e["row"] for e in rejected)
    for error in rejected:
        assert error["line"] == lines[error["row"] - 1], error
        assert error["error"]
    assert f"{len(lines)} rows: {len(out_rows)} evaluated" in stderr
    assert code == (1 if rejected else 0)


# ------------------------------------------------------------------ a byte not UTF-8


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """10,001 rows; data row 5,001 (file line 5,002) with one byte that is not UTF-8."""
    folder = tmp_path_factory.mktemp("big")
    data = _pension_csv(10_001)
    lines = data.split(b"\r\n")
    assert b"enterprise" in lines[5001]
    lines[5001] = lines[5001].replace(b"enterprise", b"ent\xe9rprise", 1)
    return folder, b"\r\n".join(lines)


@pytest.mark.parametrize("way", ["columns", "rows"])
def test_a_byte_not_utf8_rejects_its_own_row_only(
    monkeypatch: pytest.MonkeyPatch, ten_thousand: tuple[Path, bytes], way: str
) -> None:
    folder, bad = ten_thousand
    clean = folder / f"clean-{way}.csv"
    clean.write_bytes(bad.replace(b"ent\xe9rprise", b"enterprise"))
    source = folder / f"n-{way}.csv"
    source.write_bytes(bad)
    if way == "rows":
        monkeypatch.setattr(_Codec, "supports", classmethod(lambda cls, p: False))
    program = Repository(POLICIES).program(PENSION)
    want = batch.evaluate_file(program, clean, folder / f"want-{way}.csv", ON, progress=False)
    got = batch.evaluate_file(program, source, folder / f"got-{way}.csv", ON, progress=False)
    assert (got.rows, want.rows) == (10_001, 10_001)
    assert got.ok == want.ok - 1
    want_out = _output_rows(folder / f"want-{way}.csv")
    assert _output_rows(folder / f"got-{way}.csv") == [r for r in want_out if r["row"] != "5001"]
    want_errors = _errors(folder / f"want-{way}.csv.errors.jsonl")
    got_errors = _errors(folder / f"got-{way}.csv.errors.jsonl")
    (new,) = [e for e in got_errors if e not in want_errors]
    assert (new["row"], new["line"], new["field"]) == (5001, 5002, None)
    assert "UTF-8" in new["error"] and "0xe9" in new["error"]
    assert [e for e in got_errors if e is not new] == want_errors


def test_a_byte_not_utf8_through_the_command(ten_thousand: tuple[Path, bytes]) -> None:
    folder, bad = ten_thousand
    source = folder / "cli.csv"
    source.write_bytes(bad)
    out = folder / "cli-out.csv"
    code, stderr = _eval(source, out)
    _assert_every_row_accounted(source, out, Path(f"{out}.errors.jsonl"), code, stderr)
    assert "10001 rows:" in stderr


def test_a_byte_not_utf8_in_a_small_file(tmp_path: Path) -> None:
    data = _pension_csv(5).split(b"\r\n")
    data[2] = data[2].replace(b"enterprise", b"ent\xe9rprise", 1)
    source = tmp_path / "small.csv"
    source.write_bytes(b"\r\n".join(data))
    out = tmp_path / "out.csv"
    code, stderr = _eval(source, out)
    _assert_every_row_accounted(source, out, tmp_path / "out.csv.errors.jsonl", code, stderr)
    errors = _errors(tmp_path / "out.csv.errors.jsonl")
    assert [(e["row"], e["line"]) for e in errors if "UTF-8" in e["error"]] == [(2, 3)]


@pytest.mark.parametrize("ending", [b"", b"\n", b"\r\n"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_truncated_sequence_at_the_end_is_a_rejected_row(
    tmp_path: Path, suffix: str, ending: bytes
) -> None:
    """Not an endless loop: run in a child with a time limit."""
    if suffix == ".csv":
        data = _pension_csv(3) + b"2010-05-01,\xe4\xb8" + ending
    else:
        data = _pension_jsonl(3) + b'{"scheme": "\xe4\xb8' + ending
    source = tmp_path / f"cut{suffix}"
    source.write_bytes(data)
    out = tmp_path / f"out{suffix}"
    proc = subprocess.run(
        _command(source, out),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=20,
    )
    errors = Path(f"{out}.errors.jsonl")
    _assert_every_row_accounted(source, out, errors, proc.returncode, proc.stderr)
    last = _errors(errors)[-1]
    line = 5 if suffix == ".csv" else 4  # the CSV's header is line 1
    assert (last["row"], last["line"], "UTF-8" in last["error"]) == (4, line, True)


def test_a_byte_not_utf8_in_a_jsonl_line(tmp_path: Path) -> None:
    lines = _pension_jsonl(6).split(b"\n")
    lines[3] = lines[3].replace(b"enterprise", b"ent\xe9rprise", 1)
    lines.insert(2, b"")  # a blank line is no row, but is a line
    source = tmp_path / "cases.jsonl"
    source.write_bytes(b"\n".join(lines))
    out = tmp_path / "out.jsonl"
    code, stderr = _eval(source, out)
    _assert_every_row_accounted(source, out, tmp_path / "out.jsonl.errors.jsonl", code, stderr)
    errors = _errors(tmp_path / "out.jsonl.errors.jsonl")
    assert [(e["row"], e["line"]) for e in errors if "UTF-8" in e["error"]] == [(4, 5)]
    assert "6 rows:" in stderr


def test_parquet_every_row_accounted(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    good = {**WORKED_EXAMPLE, "contribution_years": "20.3"}
    records = [good, {**good, "scheme": "enterprize"}, good, {**good, "monthly_pension": "x"}]
    records = records * 30
    names = list(good)
    table = pa.table({n: pa.array([str(r[n]) for r in records], pa.string()) for n in names})
    source = tmp_path / "cases.parquet"
    pq.write_table(table, source)
    out = tmp_path / "out.jsonl"
    code, stderr = _eval(source, out)
    assert code == 1, stderr
    out_rows = [r["row"] for r in _output_rows(out)]
    rejected = _errors(tmp_path / "out.jsonl.errors.jsonl")
    assert out_rows == [i for i in range(1, 121) if i % 2]
    assert [(e["row"], e["line"]) for e in rejected] == [(i, None) for i in range(2, 121, 2)]
    assert "120 rows: 60 evaluated" in stderr


_SMALL_CSV = _pension_csv(6)
_SMALL_JSONL = _pension_jsonl(6)
_BYTES = st.sampled_from(
    [
        b"\xe9",
        b"\xe4\xb8",
        b"\xff",
        b"\x80",
        b"\xc3",
        b"\n",
        b"\r",
        b'"',
        b",",
        b"\x00",
        b"{",
        b"\xef\xbb\xbf",
    ]
) | st.binary(min_size=1, max_size=3)


@st.composite
def _mutated(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        what = draw(st.sampled_from(["insert", "delete", "corrupt"]))
        if what == "insert":
            data[at:at] = draw(_BYTES)
        elif data:
            at = min(at, len(data) - 1)
            if what == "delete":
                del data[at : at + draw(st.integers(1, 3))]
            else:
                data[at] = draw(st.integers(0, 255))
    return bytes(data)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([".csv", ".jsonl"]).flatmap(
        lambda s: st.tuples(st.just(s), _mutated(_SMALL_CSV if s == ".csv" else _SMALL_JSONL))
    )
)
def test_random_damage_every_row_accounted(case: tuple[str, bytes]) -> None:
    suffix, data = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = folder / f"cases{suffix}"
        source.write_bytes(data)
        out = folder / "out.csv"
        code, stderr = _eval(source, out)
        _assert_every_row_accounted(source, out, folder / "out.csv.errors.jsonl", code, stderr)


# ------------------------------------------------- the outputs and errors: one result


def test_errors_file_equal_to_out_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(5))
    out = tmp_path / "out.csv"
    code, stderr = _eval(source, out, "--errors", str(out))
    assert code == 2 and len(stderr.splitlines()) == 1, stderr
    assert "errors file" in stderr and "out.csv" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]
    code, stderr = _eval(source, out, "--errors", str(tmp_path / "." / "out.csv"))
    assert code == 2, stderr


@pytest.mark.parametrize("which", ["--out", "--errors"])
def test_output_equal_to_input_is_refused(tmp_path: Path, which: str) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(5))
    out = tmp_path / "out.csv"
    args = (
        [str(source), "--errors", str(tmp_path / "e.jsonl")]
        if which == "--out"
        else [str(out), "--errors", str(source)]
    )
    code, stderr = _cli(
        "eval", PENSION, "--batch", str(source), "--out", *args, "--on", "2021-01-01"
    )
    assert code == 2 and "would overwrite the input" in stderr, stderr
    assert source.read_bytes() == _pension_csv(5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]


@pytest.mark.parametrize("which", ["out", "errors"])
def test_an_output_that_is_a_folder_writes_nothing(tmp_path: Path, which: str) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(5))
    folder = tmp_path / "taken.csv"
    folder.mkdir()
    out, errors = (folder, tmp_path / "e.jsonl") if which == "out" else (tmp_path / "o.csv", folder)
    code, stderr = _eval(source, out, "--errors", str(errors))
    assert code == 2 and len(stderr.splitlines()) == 1, stderr
    assert "taken.csv" in stderr and "folder" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv", "taken.csv"]
    assert not list(folder.iterdir())


def test_both_files_or_neither(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The second rename fails: the first target is put back as it was."""
    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(5))
    out, errors = tmp_path / "out.csv", tmp_path / "rejected.jsonl"
    out.write_text("old out\n")
    errors.write_text("old errors\n")
    real = os.replace
    renamed: list[str] = []

    def replace(src: Any, dst: Any) -> None:
        if Path(dst) == errors:  # the outputs are in place by now
            raise OSError(28, "No space left on device", str(dst))
        renamed.append(str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    code, stderr = _eval(source, out, "--errors", str(errors))
    assert code == 2 and "No space left on device" in stderr, stderr
    assert renamed == [str(out), str(out)]  # the outputs renamed, then put back
    assert out.read_text() == "old out\n" and errors.read_text() == "old errors\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv", "out.csv", "rejected.jsonl"]


def test_temporaries_synced_before_the_rename(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(
            f"fsync {os.readlink(f'/proc/self/fd/{fd}') if os.path.exists('/proc/self/fd') else fd}"
        )
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append(f"replace {src}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    for suffix in (".csv", ".jsonl", ".parquet"):
        if suffix == ".parquet":
            pytest.importorskip("pyarrow")
        source = tmp_path / "cases.csv"
        source.write_bytes(_pension_csv(5))
        events.clear()
        code, stderr = _eval(source, tmp_path / f"out{suffix}")
        assert code == 0, stderr
        replaced = [e.split(" ", 1)[1] for e in events if e.startswith("replace ")]
        assert len(replaced) == 2
        for tmp in replaced:
            synced = events.index(f"fsync {tmp}") if os.path.exists("/proc/self/fd") else 0
            assert synced < events.index(f"replace {tmp}"), events


def test_a_killed_runs_temporaries_are_cleaned_by_the_next(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(5))
    out = tmp_path / "out.csv"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [files.temporary_name(t, dead.pid) for t in (out, Path(f"{out}.errors.jsonl"))]
    alive = files.temporary_name(out, os.getppid())  # another run still writing
    for name in [*stale, alive]:
        (tmp_path / name).write_text("half")
    other = tmp_path / files.temporary_name(tmp_path / "other.csv", dead.pid)
    other.write_text("not ours")
    code, stderr = _eval(source, out)
    assert code == 0, stderr
    assert sorted(p.name for p in _leftovers(tmp_path)) == sorted([alive, other.name])


def test_ctrl_c_one_line_exit_130_no_temporaries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(5))
    out = tmp_path / "out.csv"

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_Writer, "write_columns", interrupt)
    code, stderr = _eval(source, out)
    assert code == 130 and stderr == "policy: interrupted\n", stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]


def test_ctrl_c_through_the_command(tmp_path: Path) -> None:
    """A real SIGINT while a large batch is being written."""
    import signal
    import time

    source = tmp_path / "cases.csv"
    source.write_bytes(_pension_csv(400_000))
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(
        _command(source, out),
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    if proc.poll() is not None:
        pytest.skip("the batch finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "policy: interrupted" and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]
