"""A fixed, deterministic sample of the sweep over all botocore operations (every service, every 15th
operation): each request a real client sends is matched to its own service and operation, or to the same
API under its other service name with the same IAM actions, with the identifiers it sent.
The full sweep: `python -m tests.proxy_sweep` (numbers in the proxy package's README section)."""

from __future__ import annotations

import collections

from tests.proxy_sweep import CORRECT, DEPRECATED_TWIN, NOT_SENT, SAME_API_OTHER_SERVICE, sweep


def test_sample_of_all_services_is_matched() -> None:
    outcomes = sweep(every=15)
    kinds = collections.Counter(o.kind for o in outcomes)
    producible = [o for o in outcomes if o.kind != NOT_SENT]
    assert len(producible) > 1_400
    assert set(kinds) <= {CORRECT, SAME_API_OTHER_SERVICE, DEPRECATED_TWIN, NOT_SENT}, kinds
    assert all(o.identifiers_ok for o in producible)
    assert all("same IAM actions" in o.detail for o in outcomes if o.kind == SAME_API_OTHER_SERVICE)
    assert kinds[CORRECT] / len(producible) > 0.98
