"""A recipient's web form is an http(s) address: anything else typed in (a ``javascript:``
or ``data:`` address that the pack page would turn into a link) is refused, nothing stored."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chorus.errors import TakedownError
from chorus.takedowns import notices
from chorus.takedowns.notices import Choices, NoticeInput, Notifier

from .fixtures import SITE

URLS = ("https://board.example/b/thread/1",)
HELPLINE = Notifier("Example Helpline", "takedowns@helpline.example", "1 Example Street")


@pytest.mark.parametrize(
    "form",
    [
        "javascript:alert(document.cookie)",
        "data:text/html,<p>hi",
        "//evil.example/x",
        "https://abuse.example/report\r\nX: y",
    ],
)
def test_a_web_form_that_is_not_a_web_address_is_refused(form: str) -> None:
    recipient = replace(SITE, web_form_url=form)
    with pytest.raises(TakedownError, match="web form"):
        notices.elements_of(NoticeInput("england-wales", recipient, URLS, HELPLINE, Choices()))


def test_a_web_form_address_is_kept() -> None:
    recipient = replace(SITE, web_form_url="https://abuse.example/report")
    notices.elements_of(NoticeInput("england-wales", recipient, URLS, HELPLINE, Choices()))
