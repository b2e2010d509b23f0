"""Collectors: the SDK, Claude Code hooks and transcripts, git, CI reports, learnings, OTLP."""
