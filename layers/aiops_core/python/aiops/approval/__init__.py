"""Human approval: one pending approval per candidate, decided on the approval page, in SageMaker
Studio or with the CLI — first decision wins; no decision before the timeout rejects."""
