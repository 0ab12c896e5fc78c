"""The matrix lists exactly the endpoints the services declare, each with the kind of policy
the route declares, and docs/security.md shows it as it is."""

from __future__ import annotations

import importlib
import re

from civicpulse.access import endpoints
from civicpulse.settings import SERVICE_CLASSES
from tests import security_matrix as sm

STAFF = {"editor", "section_head", "leader_in_charge", "principal", "admin"}


def test_the_matrix_lists_every_declared_endpoint_and_nothing_else() -> None:
    matrix, declared = set(sm.load()), sm.declared()
    assert declared - matrix == set(), "endpoints missing from docs/security-matrix.yaml"
    assert matrix - declared == set(), "matrix rows for endpoints no service declares"


def test_each_row_agrees_with_the_declared_policy_kind() -> None:
    matrix = sm.load()
    for service, where in SERVICE_CLASSES.items():
        module, cls = where.split(":")
        for ep in endpoints(getattr(importlib.import_module(module), cls)):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", ep.url)
            allowed = matrix[(service, ep.method, path)]
            kind = ep.access.kind
            if kind == "public":
                assert allowed == set(sm.CALLERS), (service, path)
            elif kind == "staff":
                assert allowed and allowed <= STAFF, (service, path)
            elif kind in ("partner", "partner_session"):
                assert allowed and allowed <= {"partner_on", "partner_off"}, (service, path)
            elif kind == "staff_session":
                assert allowed and allowed <= STAFF, (service, path)
            else:
                assert allowed == {kind}, (service, path)


def test_docs_security_md_renders_the_matrix_without_drift() -> None:
    assert sm.doc_section() == sm.render(sm.load()), (
        "docs/security.md differs from docs/security-matrix.yaml: run "
        "`python -m tests.security_matrix`")


def test_each_openapi_operation_names_the_security_scheme_of_its_policy() -> None:
    from civicpulse.openapi import SCHEMES, document

    matrix = sm.load()
    for service, where in SERVICE_CLASSES.items():
        module, cls = where.split(":")
        doc = document(getattr(importlib.import_module(module), cls))
        assert set(doc["components"]["securitySchemes"]) == set(SCHEMES.values())
        operations = {(service, m.upper(), path): op for path, ops in doc["paths"].items()
                      for m, op in ops.items()}
        assert set(operations) == {k for k in matrix if k[0] == service}
        for key, op in operations.items():
            allowed = matrix[key]
            if "anonymous" in allowed:
                assert op["security"] == [], key
            else:
                [scheme] = [name for s in op["security"] for name in s]
                kind = ("collector" if allowed == {"collector"} else "partner"
                        if allowed <= {"partner_on", "partner_off"} else "staff")
                if service == "console":  # a browser session cookie, not a bearer token
                    kind = f"{kind}_session"
                assert scheme == SCHEMES[kind], key
                assert {"401", "403"} <= set(op["responses"]), key
