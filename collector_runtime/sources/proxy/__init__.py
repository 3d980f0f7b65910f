"""The HTTPS proxy source's pure core: one intercepted AWS request in, the call it makes out."""
