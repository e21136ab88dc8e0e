"""Build step: ship copies of the top-level schema/ and policies/ inside the wheel.

The checkout keeps them at the top level (the layout is fixed); a built package carries
copies in ``interpreter/_data/`` that ``interpreter.policy.resources`` reads through
``importlib.resources``. Editable installs copy nothing: they read the checkout directly.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("schema", "policies")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "interpreter" / "_data"
        for name in SHIPPED:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(
                HERE / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )


setup(cmdclass={"build_py": BuildWithData})
