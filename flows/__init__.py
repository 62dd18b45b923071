"""Pipeline glue: the plain-Python conversion pipeline, writers, Prefect flows, CLI,
evaluation and benchmark."""
