"""The column engine: a policy's core tree compiled to numpy over whole batches."""
