"""Contraindication pre-screen: policy (data), evaluator and language rules in plain Python,
and the Rasa actions that run the conversation (`actions.screening.actions`)."""
