"""When messages are due. It fills the outbox and never sends anything itself."""
