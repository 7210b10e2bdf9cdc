"""The machine learning of Label Auditor: audio, features, models, scoring. No Django imports."""
