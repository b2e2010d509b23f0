"""Reports for people: Markdown and HTML dashboards, review, skill audit, A/B comparison."""
