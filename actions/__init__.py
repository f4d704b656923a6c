"""Custom actions for the clinic assistant, one module per capability.

Modules without Rasa imports (e.g. `clinic_config`) hold the domain logic that tests use directly.
"""
