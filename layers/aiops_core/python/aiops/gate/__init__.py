"""Gate capability: the automatic checks and the gate step."""
