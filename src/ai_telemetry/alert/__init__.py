"""Alerts: alerts.log, notifiers (e-mail, Slack), the escalation ladder."""
