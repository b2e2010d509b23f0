"""Sending events to an ``ai-telemetry serve`` server: `sender` (one batch, retried) and
`shipper` (a log and its archives, from a durable checkpoint)."""
