"""Handing a conversation to a person: contact details, staff notification, pause."""
