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
            elif kind == "partner":
                assert allowed and allowed <= {"partner_on", "partner_off"}, (service, path)
            else:
                assert allowed == {kind}, (service, path)


def test_docs_security_md_renders_the_matrix_without_drift() -> None:
    assert sm.doc_section() == sm.render(sm.load()), (
        "docs/security.md differs from docs/security-matrix.yaml: run "
        "`python -m tests.security_matrix`")
