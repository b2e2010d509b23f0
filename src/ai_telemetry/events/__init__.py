"""What may enter the log: the event contract, validation and the privacy guard."""
