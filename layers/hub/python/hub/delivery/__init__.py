"""Delivering events to subscribers: subscriptions, fan-out, the queue, signing, sending, retries, logs."""
