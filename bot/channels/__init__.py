"""Outbound: the transport port, its adapters, and the outbox dispatcher."""
