# The Fargate collector's image (`npx cdk deploy -c collector=fargate` builds it on the deploying machine for
# linux/arm64, or linux/amd64 with `-c architecture=x86_64`). Build context: the repository root, narrowed by
# .dockerignore.
#
# The base is pinned by the digest of the multi-platform index (linux/amd64 and linux/arm64/v8) of
# python:3.11.14-slim, so every build starts from the same bytes. Taken from public repositories that pin
# this tag (the same digest in several of them), not checked against Docker Hub from here. To check it or
# move to a newer patch release:
#   docker buildx imagetools inspect python:3.11-slim   # the "Digest:" line of the index, and its tag's version
FROM python:3.11.14-slim@sha256:c8271b1f627d0068857dce5b53e14a9558603b527e46f1f901722f935b786a39

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The same pinned runtime requirements the EC2 bundle vendors (boto3, orjson, msgspec and their closure), then the
# collector itself; both with --no-deps, so nothing unpinned gets in.
# With PROXY=true (the CDK app's -c proxy=true) also the HTTPS proxy's pinned requirements (mitmproxy 11.0.2
# and its closure, proxy-requirements.txt), for `csm-collector proxy` in a second container.
ARG PROXY=false
COPY collector-requirements.txt /tmp/csm-collector/
COPY proxy-requirements.txt /tmp/csm-collector/
RUN pip install --no-deps --requirement /tmp/csm-collector/collector-requirements.txt \
    && if [ "$PROXY" = "true" ]; then \
        pip install --no-deps --requirement /tmp/csm-collector/proxy-requirements.txt; fi
COPY pyproject.toml /tmp/csm-collector/
COPY collector_runtime /tmp/csm-collector/collector_runtime
# pyproject.toml names README.md as the long description; an empty one keeps docs out of the image hash.
RUN touch /tmp/csm-collector/README.md \
    && pip install --no-deps /tmp/csm-collector \
    && rm -rf /tmp/csm-collector \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin csm-collector \
    && install -d -o csm-collector -g csm-collector -m 0750 /var/lib/csm-collector

USER 10001:10001
WORKDIR /var/lib/csm-collector
# CSM datagrams and OTLP/HTTP traces (the contract's default ports; the task definition maps the configured ones).
EXPOSE 31000/udp 4318/tcp

# Healthy while the collector answers /health on the container's loopback (--metrics-port binds 127.0.0.1):
# it does once it listens and has set up publishing. The task definition runs the same check.
ENV CSM_COLLECTOR_METRICS_PORT=9100
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['CSM_COLLECTOR_METRICS_PORT'], timeout=3)"]

# The port comes from CSM_COLLECTOR_PORT (set by the task definition); flags here would override it.
ENTRYPOINT ["csm-collector"]
CMD ["listen", "--host", "0.0.0.0", "--output-dir", "/var/lib/csm-collector", "--quiet"]
