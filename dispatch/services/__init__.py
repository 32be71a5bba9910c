"""The long-running processes (ingest, watch, gateway, retention, proxy) and what they share."""
