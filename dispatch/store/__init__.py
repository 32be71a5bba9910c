"""Redis adapters: the only code that talks to the data store."""
