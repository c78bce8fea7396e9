"""The kernel every workflow shares: run requests, the lock, data windows and manifests,
task-token rendezvous for any job, step inputs, the ports workflows act through."""
