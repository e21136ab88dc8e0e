"""One case at a time: the compiled program of a policy, facts, evaluation and its trace."""
