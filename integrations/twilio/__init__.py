"""Twilio adapter: SMS and WhatsApp webhooks, delivery status callbacks, the outbound gateway.

Self-contained: helpline never imports it. The gateway is chosen through
settings.HELPLINE_GATEWAYS; the webhooks are mounted by integrations/urls.py.
"""
