"""Booking requests: validation of the details (plain Python) and the Rasa form and actions."""
