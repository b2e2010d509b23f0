"""Reports for people: Markdown and HTML dashboards, learning review, skill audit, A/B comparison."""
