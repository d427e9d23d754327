"""From call history to the scenario's inputs: `forecast` (history -> calls per slot ahead)
and `calibrate` (a call-detail log -> volumes, handle times, profiles, patience, service)."""
