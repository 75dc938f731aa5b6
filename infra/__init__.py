"""CDK infrastructure of the WhatsApp webhook hub, generated from hub.catalog."""
