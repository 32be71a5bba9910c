"""The demo: the launcher of `make run`, the simulated drones and tablets, the Rennes scenario."""
