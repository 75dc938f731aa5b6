"""CDK infrastructure of the WhatsApp webhook hub, generated from hub.platform.catalog."""
