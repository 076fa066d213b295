"""What to say: message kinds, their templates, and the rendered text that goes into the outbox."""
