"""Outputs: write what the core rendered (files, state, archive, S3/SSM, live view, metrics)."""
