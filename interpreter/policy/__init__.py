"""Policy files to frozen data: YAML and sources read, checked and built into the model."""
