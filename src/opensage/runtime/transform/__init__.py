"""Batch transform's data plane: split input objects into records, batch them, filter, join and assemble."""
