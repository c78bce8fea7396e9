"""Drift capability: drift signals → policy → retrain or alert; our own drift check."""
