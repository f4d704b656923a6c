"""The visitor's data over its life: consent ledger, erasure on request, retention, access.

Plain Python over the records database and Rasa's SQL tracker store; the Rasa actions
(`actions.py`), the Rasa server's staff API, the staff console, the delivery worker and the
command line (`python -m actions.privacy`) all call the same functions.
"""
