"""What every capability shares: the deployment catalog, settings, HTTP plumbing and the error envelope, observability, the DynamoDB client, stream failure handling."""
