"""The HTTPS proxy source's pure core: one intercepted AWS request in, the call it makes out.

    service_models = ServiceModels()  # botocore's models, read lazily (metadata ~0.1 s, each model on first use)
    result = match_request(http_request(method, host, path, query, headers=headers, body=body), service_models)
    # MatchedCall(service, operation, region, account, identifiers, members, service_name) or UnmatchedCall

No sockets, no mitmproxy, no environment, no clock. Needs botocore (the `proxy` extra) at run time, imported
only when the service models first load. Modules, in the order a request meets them:

- request      the request as read off the wire (headers lower-cased, body cut to MAX_BODY)
- credentials  SigV4 credential scope: signing name, region, account (never the key id)
- service_models  services by signing name / target prefix / endpoint prefix; operation tables per service
- operations   one service's operations by name and by REST route
- routes       REST request-URI templates, query/header discriminators, specificity
- s3_hosts     S3 virtual-hosted-style and S3 Express control hosts
- matcher      which service and operation, or why not (never a guess)
- members      the top-level input members the request set, read back through the model
- bodies       top level of JSON, XML, form and CBOR bodies
- identifier_allowlist  which member values may leave (identifiers, never secrets)

Beside them, `destinations` (pure too) says where the proxy may connect at all; `guard` applies it in mitmproxy.
"""

from collector_runtime.sources.proxy.matcher import MatchedCall, UnmatchedCall, match_request
from collector_runtime.sources.proxy.request import MAX_BODY, HttpRequest, http_request
from collector_runtime.sources.proxy.service_models import ServiceModels

__all__ = ["MAX_BODY", "HttpRequest", "MatchedCall", "ServiceModels", "UnmatchedCall", "http_request", "match_request"]
