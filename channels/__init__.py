"""Input channels mounted on the Rasa server (named in credentials.yml)."""
