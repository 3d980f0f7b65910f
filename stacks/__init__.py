"""The CDK app's building blocks: one config object read from CDK context, constructs (one logical unit
each) and four stacks split by lifecycle (network, storage, collector, demo) that only compose them."""
