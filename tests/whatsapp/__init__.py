"""Tests of the WhatsApp channel against a local stand-in for Meta's Cloud API."""
