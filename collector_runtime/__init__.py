"""csm-collector: AWS SDK Client-Side Monitoring events in, least-privilege IAM policies out."""

__version__ = "0.1.0"
