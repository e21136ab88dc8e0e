"""Source texts are faithful to the gazette seed, and the anchor parser is strict.

Faithfulness is checked against the seed itself: the only edit allowed in source.md is
joining lines split by a page break, so after removing anchors and blank lines and
concatenating, a source must equal its seed range character for character.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from interpreter.policy.sources import (
    ANCHOR_ID_RE,
    SourceError,
    SourceText,
    load_errata,
    load_source,
    normalize_quote,
    parse_source,
)

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SOURCE_FILES = sorted(POLICIES.glob("*/source.md")) + sorted(POLICIES.glob("*/interpretation.md"))
ERRATA_FILES = sorted(POLICIES.glob("*/errata.yaml"))
TAG = re.compile(r'^<a id="[^"]*"></a>')

EXPECTED_IDS = {
    "pension-adjustment-2021/source.md": [
        "preamble",
        "s1",
        "s2",
        "s3",
        "s3-1",
        "s3-2",
        "s3-2-1",
        "s3-2-2",
        "s3-3",
        "s3-3-1",
        "s3-3-2",
        "s4",
        "s4-p2",
        "s5",
        "s5-1",
        "s5-2",
        "s5-3",
        "s5-4",
    ],
    "transport-penalty-discretion-2021/source.md": [
        *(f"art-{n}" for n in range(1, 26)),
        "notice-p1",
        "art-10-3",
        "art-12-6",
        "art-21-5",
    ],
    "medical-outpatient-cross-region-2021/source.md": [
        *(f"art-{n}" for n in range(1, 47)),
        *(f"ch-{n}" for n in range(1, 8)),
        "art-7-5-2",
    ],
    "medical-outpatient-cross-region-2021/interpretation.md": [
        "preamble",
        "q1",
        "q2",
        "q3",
        "q2-3-4",
        "q2-4-4",
        "q3-5",
    ],
    "manufacturing-digital-transformation-2021/source.md": [
        *(f"s{n}" for n in range(1, 7)),
        *(f"att2-s{n}" for n in range(1, 10)),
        "s3-2-20",
    ],
    "license-separation-reform-2021/source.md": [*(f"s{n}" for n in range(1, 6)), "s5-3"],
    "rural-revitalization-2021/source.md": [*(f"s{n}" for n in range(1, 9)), "s1-1", "s8-25"],
    "agri-industrial-parks-2021/source.md": [*(f"s{n}" for n in range(1, 7)), "s4-2-7"],
    "rulemaking-plan-2021/source.md": ["notice-s3", "s1-12", "s2-7", "s3-2"],
}


def _name(path: Path) -> str:
    return path.relative_to(POLICIES).as_posix()


def _flatten(lines: list[str]) -> str:
    """Anchor tags removed, blank lines dropped, lines stripped and concatenated."""
    return "".join(TAG.sub("", line).strip() for line in lines if line.strip())


@pytest.fixture(scope="module", params=SOURCE_FILES, ids=_name)
def source(request: pytest.FixtureRequest) -> SourceText:
    return load_source(request.param)


def test_every_policy_has_its_source() -> None:
    assert {_name(p) for p in SOURCE_FILES} == set(EXPECTED_IDS)


def test_body_is_the_seed_text(source: SourceText) -> None:
    seed = source.front_matter["seed"]
    seed_path = SEEDS / seed["file"]
    if not seed_path.exists():
        pytest.skip(f"seed {seed_path} not present: clone shared/ beside the repo to check")
    first, last = seed["lines"]
    seed_lines = seed_path.read_text(encoding="utf-8").split("\n")[first - 1 : last]
    raw = source.path.read_text(encoding="utf-8").split("\n")
    body = raw[raw.index("---", 1) + 1 :]
    assert _flatten(body) == _flatten(seed_lines)
    assert seed_lines[0].strip() and seed_lines[-1].strip(), "range must start/end on text"


def test_body_keeps_seed_lines_except_joins(source: SourceText) -> None:
    """Every body line is a seed line or a join of seed lines: nothing is re-wrapped."""
    seed = source.front_matter["seed"]
    seed_path = SEEDS / seed["file"]
    if not seed_path.exists():
        pytest.skip(f"seed {seed_path} not present")
    first, last = seed["lines"]
    seed_lines = seed_path.read_text(encoding="utf-8").split("\n")[first - 1 : last]
    position = 0
    for line in (line for line in source.body.split("\n") if line.strip()):
        while not seed_lines[position].strip():
            position += 1
        joined = seed_lines[position]
        while joined != line and len(joined) < len(line):
            position += 1
            while not seed_lines[position].strip():
                position += 1
            joined += seed_lines[position]
        assert joined == line
        position += 1


def test_expected_anchors(source: SourceText) -> None:
    missing = [a for a in EXPECTED_IDS[_name(source.path)] if a not in source.anchors]
    assert not missing


def test_anchor_ids_unique_and_well_formed(source: SourceText) -> None:
    tags = re.findall(r'<a id="([^"]*)"></a>', source.path.read_text(encoding="utf-8"))
    assert len(tags) == len(set(tags)) == len(source.anchors)
    assert all(ANCHOR_ID_RE.match(a) for a in tags)
    assert "<a " not in source.body


def test_anchor_lines_point_at_tags(source: SourceText) -> None:
    raw = source.path.read_text(encoding="utf-8").split("\n")
    for anchor in source.anchors.values():
        assert raw[anchor.line - 1].startswith(f'<a id="{anchor.id}"></a>')


def test_descendants_inside_parent_span(source: SourceText) -> None:
    for anchor in source.anchors.values():
        if anchor.parent is not None:
            assert anchor.text in source.anchors[anchor.parent].text
            assert anchor.id.startswith(anchor.parent + "-")


def test_front_matter(source: SourceText) -> None:
    fm = source.front_matter
    assert fm["gazette"].endswith(fm["published"])
    assert isinstance(fm["published"], str)
    if fm["role"] == "primary":
        assert normalize_quote(fm["document_number"]) in normalize_quote(source.body)
        assert source.path.name == "source.md"
    else:
        assert source.path.name == "interpretation.md"


def test_pension_spans_and_locate() -> None:
    pension = load_source(POLICIES / "pension-adjustment-2021" / "source.md")
    assert pension.locate("不得另行制定方 案，\n不得以任何理由", "s5-1")
    assert pension.locate("个人账户余额为零时", "s4-p2")
    assert pension.locate("个人账户余额为零时", "s4")
    assert not pension.locate("个人账户余额为零时", "s3")
    assert pension.locate("每人每月定额增加45元", "s3-1")
    assert pension.locate("每人每月定额增加 45 元")
    assert not pension.locate("")
    assert "附件" not in pension.anchors["s5-4"].text
    assert pension.anchors["s3-2-2"].parent == "s3-2"
    assert pension.anchors["s3-2"].text.startswith("(二) 挂钩调整")
    assert pension.label_path("s3-2-2") == "三、(二)2."
    assert pension.label_path("s4-p2") == "四、第二段"
    assert pension.anchors["preamble"].label == ""
    with pytest.raises(KeyError):
        pension.locate("x", "s9")


def test_transport_and_medical_locators() -> None:
    transport = load_source(POLICIES / "transport-penalty-discretion-2021" / "source.md")
    assert transport.label_path("art-22") == "第二十二条"
    assert transport.label_path("art-10-p2") == "第十条第二款"
    assert transport.label_path("art-12-p2-3") == "第十二条第二款3."
    assert transport.anchors["art-1"].text.startswith("第一条")
    assert not transport.locate("第十一条", "art-1")
    assert transport.locate("坚持严格规范公正文明执法，进一步规范", "notice-p1")
    medical = load_source(POLICIES / "medical-outpatient-cross-region-2021" / "source.md")
    assert medical.anchors["ch-1"].text == "第一章 总 则"
    assert medical.anchors["art-1"].parent is None
    assert medical.label_path("art-7-5-1") == "第七条(五)1."
    plan = load_source(POLICIES / "manufacturing-digital-transformation-2021" / "source.md")
    assert plan.label_path("att2-s1") == "附文2一、"
    assert plan.label_path("s4-1-box1-p2") == "四、（一）专栏 1第二段"
    assert plan.anchors["s4-1-box1"].parent == "s4-1"
    parks = load_source(POLICIES / "agri-industrial-parks-2021" / "source.md")
    assert parks.label_path("final-p2") == "结尾第二段"
    assert parks.anchors["s2-3"].label == "三是"


@pytest.mark.parametrize("path", ERRATA_FILES, ids=_name)
def test_errata(path: Path) -> None:
    source = load_source(path.parent / "source.md")
    errata = load_errata(path, source)
    assert errata
    for erratum in errata:
        assert erratum.printed != erratum.probably_meant
    assert path.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../../schema/errata.schema.json\n"
    )


def test_at_least_two_errata_recorded() -> None:
    assert sum(len(yaml.safe_load(p.read_text())["errata"]) for p in ERRATA_FILES) >= 2


GOOD_FM = """---
document_number: 粤人社规〔2021〕13号
title: 标题
issuers: [广东省财政厅]
signed: 2021-06-18
published: 2021-07-15
gazette: 广东省人民政府公报 2021-07-15
seed: {file: seed.txt, lines: [1, 9]}
role: primary
---
"""


def _error(tmp_path: Path, text: str) -> SourceError:
    path = tmp_path / "source.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_source(path)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("no front matter\n", 1, "missing front matter"),
        ("---\ntitle: x\n", 1, "not closed"),
        (GOOD_FM.replace("role: primary", "role: primary\nrole: primary"), 10, "duplicate key"),
        (GOOD_FM.replace("role: primary", "role: primary\ncolour: red"), 10, "unknown"),
        (GOOD_FM.replace("signed: 2021-06-18\n", ""), 2, "signed"),
        (GOOD_FM.replace("2021-06-18", "2021-13-18"), 5, "signed"),
        (GOOD_FM.replace("role: primary", "role: [primary"), 9, "invalid YAML"),
        (GOOD_FM + '<a id="s1"></a>一、甲\n<a id="s1"></a>一、乙\n', 12, "duplicate anchor"),
        (GOOD_FM + '<a id="Art 1"></a>第一条 甲\n', 11, "scheme"),
        (GOOD_FM + '第一条 甲<a id="art-1"></a>\n', 11, "malformed"),
        (GOOD_FM + "<a id='art-1'></a>第一条 甲\n", 11, "malformed"),
        (GOOD_FM + '<a id="art-1"></a> 第一条 甲\n', 11, "followed by text"),
        (GOOD_FM + '<a id="art-2"></a>第一条 甲\n', 11, "第一条"),
        (GOOD_FM + '<a id="s1-2"></a>（三）甲\n', 11, "（三）"),
    ],
)
def test_bad_sources(tmp_path: Path, text: str, line: int, needle: str) -> None:
    error = _error(tmp_path, text)
    assert str(error).startswith(f"{tmp_path / 'source.md'}:{line}:")
    assert needle in str(error)


def test_good_minimal_source(tmp_path: Path) -> None:
    text = GOOD_FM + '标题\n\n<a id="art-1"></a>第一条 **甲**\n\n<a id="art-1-1"></a>（一）乙\n'
    parsed = parse_source(tmp_path / "x.md", text)
    assert list(parsed.anchors) == ["art-1", "art-1-1"]
    assert parsed.anchors["art-1"].text == "第一条 **甲**\n\n（一）乙"
    assert parsed.anchors["art-1"].line == 13
    assert parsed.locate("甲（一）", "art-1")
    assert parsed.front_matter["signed"] == "2021-06-18"


def test_errata_problems_are_located(tmp_path: Path) -> None:
    source = load_source(POLICIES / "pension-adjustment-2021" / "source.md")
    path = tmp_path / "errata.yaml"
    path.write_text(
        "errata:\n  - anchor: s1\n    printed: 不存在\n    probably_meant: x\n    why: y\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"errata\.yaml:2:1: printed text not in 's1'"):
        load_errata(path, source)


def test_normalize_quote() -> None:
    assert normalize_quote(" **甲** 乙\u3000丙\n丁 ") == "甲乙丙丁"


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_ruff_clean(args: list[str]) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    files = [REPO / "interpreter" / "policy" / "sources.py", Path(__file__)]
    result = subprocess.run([ruff, *args, *map(str, files)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
