"""csm-collector: AWS SDK Client-Side Monitoring events in, least-privilege IAM policies out."""

__version__ = "0.2.0"  # the package's version (pyproject.toml reads it); CHANGELOG.md says what it added
