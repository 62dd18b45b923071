"""Deterministic resource identifiers.

Every id in a generated Bundle is a UUID version 5 (SHA-1 name-based, RFC 4122) computed
from a fixed project namespace and the triple (document sha256, resource kind, key).
Running the pipeline twice on the same PDF therefore yields byte-identical bundles, and
two different documents never share ids (their sha256 differ). No randomness and no
clock are involved.
"""

from __future__ import annotations

import uuid

# Fixed namespace of the project: uuid5 of the DNS namespace and the project domain.
# Changing it changes every id ever produced, so it is a constant, never configuration.
PDF2FHIR_NAMESPACE: uuid.UUID = uuid.uuid5(uuid.NAMESPACE_DNS, "pdf2fhir.org")


def resource_id(doc_sha256: str, kind: str, key: str) -> str:
    """Return a stable UUID string for resource `kind` number/key `key` of a document.

    `doc_sha256` is the hex digest of the source PDF (the document id), `kind` a
    resource or identifier kind ("Observation", "Bundle", ...) and `key` what makes it
    unique within the document (a row index, a specimen type, "" for singletons).
    The three parts are joined with a separator that cannot occur in a hex digest, so
    ("ab", "c") and ("a", "bc") cannot collide.
    """
    if not doc_sha256:
        raise ValueError("doc_sha256 must not be empty")
    name = "\x1f".join((doc_sha256.lower(), kind, key))
    return str(uuid.uuid5(PDF2FHIR_NAMESPACE, name))


def urn_uuid(resource_uuid: str) -> str:
    """The `urn:uuid:` form used for Bundle fullUrls and identifiers."""
    return f"urn:uuid:{resource_uuid}"
