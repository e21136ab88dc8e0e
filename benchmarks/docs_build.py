"""Wall time of a full docs build: render every page (policy docs) plus mkdocs build.

Renders into a scratch folder (the working tree is not touched), then builds the site
with the repository's mkdocs.yml, and prints each part and the total. Aim: under 30 s for
all nine documents.

    python benchmarks/docs_build.py
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from interpreter import Repository  # noqa: E402
from interpreter.cli import reference  # noqa: E402
from interpreter.site.render import render_site, write_site  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        shutil.copy(REPO / "mkdocs.yml", work / "mkdocs.yml")
        start = time.perf_counter()
        pages = render_site(Repository(REPO / "policies"), dt.date.today(), reference=reference())
        write_site(work / "generated_docs", pages)
        rendered = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(work / "site")],
            cwd=work,
            check=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            stderr=subprocess.DEVNULL,
        )
        built = time.perf_counter()
    documents = sum(1 for p in pages if p.startswith("sources/"))
    print(f"pages rendered: {len(pages)} files for {documents} source texts")
    print(f"render (policy docs):  {rendered - start:6.2f} s")
    print(f"mkdocs build --strict: {built - rendered:6.2f} s")
    print(f"total wall time:       {built - start:6.2f} s  (aim: < 30 s)")


if __name__ == "__main__":
    main()
