"""Deploy and roll back: approved candidates onto their endpoints (blue/green), the endpoint's
history of what served when, and rollback to the last known good."""
