"""Mapping stages: terminology, units, numbers, raw->mapped results and the FHIR builder."""
