"""AWS adapters: each takes an injectable boto3 client, created lazily on first use."""
