"""Flag groups several commands share, each with its options dataclass and its builder, defined once:
output and policy, the running collector (with publishing and archive), alerts, learned input, AWS."""
