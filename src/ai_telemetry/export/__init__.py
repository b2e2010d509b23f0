"""Exporters: Prometheus and Grafana."""
