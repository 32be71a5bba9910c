"""Patrol dispatch: drone sightings in, patrols sent, everything traceable."""
