"""Analysis: the metric catalogue, aggregation, statistical process control, threshold rules."""
