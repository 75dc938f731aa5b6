"""Domain code of the WhatsApp webhook hub, shipped to Lambda as a layer."""

PRODUCT = "wa-webhook-hub"
VERSION = "0.1.0"
