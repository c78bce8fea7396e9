"""Retrain capability: new data → window → run; the retrain workflow's steps."""
