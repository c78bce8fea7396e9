"""Health capability: the control plane watches its own state — locks held past their lease,
approvals waiting and those near their timeout — for the self-monitoring alarms."""
