"""Cost anomalies and spend alarms: attributed to the models that caused them, remediated by
each model's budget policy (notify, pause triggers, stop jobs, scale to minimum, roll back),
every action audited and reversible (`resume`)."""
