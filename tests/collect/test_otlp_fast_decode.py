"""`message_to_dict` gives exactly what protobuf's own ``json_format.MessageToDict`` gives."""

from __future__ import annotations

import time
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from ai_telemetry.collect.otlp.decode import message_to_dict

RESOURCE = Resource.create({"service.name": "svc", "n": 3, "ok": True, "ratio": 0.5})
ATTRS: dict[str, Any] = {
    "s": "text",
    "empty": "",
    "i": 9007199254740993,
    "zero": 0,
    "f": 1.25,
    "b": False,
    "list": ["a", "b"],
    "ints": [1, 2],
}


def _same(message: Any) -> None:
    assert json_format.MessageToDict(message) == message_to_dict(message)


def test_spans_with_events_links_status_and_kinds() -> None:
    """Spans of every kind, with events, links, an error status and typed attributes."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t", "1.0")
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER, attributes=ATTRS) as root:
        root.add_event("evt", {"k": "v", "n": 2})
        link = Link(root.get_span_context(), {"why": "test"})
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT, links=[link]) as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    _same(encode_spans(exporter.get_finished_spans()))


def test_logs_with_every_body_kind() -> None:
    """Log records whose bodies are strings, numbers, maps, lists and bytes."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("l")
    for body in (
        "text",
        42,
        1.5,
        True,
        {"k": "v", "nested": {"x": [1, "y"]}},
        [1, "a"],
        b"\x00\xff",
    ):
        logger.emit(timestamp=time.time_ns(), body=body, attributes=ATTRS, severity_text="INFO")
    logger.emit(timestamp=time.time_ns(), body=None, attributes={})
    _same(encode_logs(list(exporter.get_finished_logs())))


def test_metrics_sums_gauges_histograms() -> None:
    """Counters, up-down counters, gauges and histograms (64-bit counts, bucket lists)."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter = provider.get_meter("m")
    meter.create_counter("c").add(3, {"session.id": "s1"})
    meter.create_up_down_counter("u").add(-2)
    meter.create_histogram("h").record(12.5, {"k": "v"})
    meter.create_gauge("g").set(0.75)
    data = reader.get_metrics_data()
    assert data is not None
    _same(encode_metrics(data))
