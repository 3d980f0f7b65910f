"""Sources: adapters that decode one kind of input (CSM, replay, archive, proxy, OTLP) into `ObservedCall`s."""
