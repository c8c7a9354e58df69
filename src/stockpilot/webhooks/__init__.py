"""Signed webhooks: subscriptions per topic (and site), delivery of the outbox after commit by a
worker process, retries with backoff, a delivery log and manual redelivery."""
