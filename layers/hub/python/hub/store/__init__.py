"""Data access: one module per table; nothing else talks to DynamoDB or SQS."""
