"""The HTTP app (OTLP receiver, metrics endpoint)."""
