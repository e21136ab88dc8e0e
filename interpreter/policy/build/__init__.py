"""Policy folder to frozen model: a pipeline of checkers sharing one load context.

``pipeline.load_policy`` runs them in order on a ``context.LoadContext``: ``reading``
(YAML and schema of every file), ``source_texts`` (the gazette texts and citations),
``document`` (policy.yaml: convention, facts, outputs, in force), ``parameters``,
``computations`` (with ``expressions`` and ``tables``), ``obligations``, ``cases``, then
the coverage manifest and the content hash (``hashing``). Every problem is collected at
file:line:column; none stops the others.
"""

from .hashing import content_hash, policy_files
from .pipeline import load_policy

__all__ = ["content_hash", "load_policy", "policy_files"]
