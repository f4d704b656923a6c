"""The WhatsApp Business Cloud API channel (credentials.yml: `channels.whatsapp.WhatsAppInput`)."""

from channels.whatsapp.channel import WhatsAppInput

__all__ = ["WhatsAppInput"]
