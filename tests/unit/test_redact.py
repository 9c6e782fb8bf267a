from __future__ import annotations

import pytest

from ccms.store.postgres import redact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=s3cret&sslmode=disable",
            "postgresql://u@h/db?password=***&sslmode=disable",
        ),
        (
            "postgresql://u@h/db?options=-csearch_path%3Dt1",
            "postgresql://u@h/db?options=-csearch_path%3Dt1",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_redact_hides_every_password(url: str, expected: str) -> None:
    assert redact(url) == expected
    assert "s3cret" not in redact(url)
