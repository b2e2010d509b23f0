"""The append-only ``events.jsonl``: a locked, line-atomic writer and a tolerant reader."""
