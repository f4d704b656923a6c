"""The clinic's own spaCy pipeline, built from versioned pattern files in this folder.

Pretrained spaCy pipelines cannot be downloaded on the machines this project targets, so the
assistant's spaCy model is blank English plus rule components; see `build_pipeline.py`.
"""
