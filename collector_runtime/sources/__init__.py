"""Sources of observed calls: each decodes its own input into `core.records.ObservedCall`s."""
