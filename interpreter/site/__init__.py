"""The generated docs site and the test matrices, rendered from the policy files."""
