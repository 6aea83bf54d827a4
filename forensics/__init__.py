"""Forensic analysis of evidence media: pure-Python analysers, the rule engine and the Django glue."""
