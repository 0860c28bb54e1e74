"""What a source yields: media found on a page, and further pages (threads) to watch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from chorus.monitor.fetch import Fetched

MAX_TEXT = 4000


@dataclass(frozen=True)
class MediaRef:
    """One piece of media and every URL that serves it or mentions it."""

    url: str
    page_url: str
    thumbnail_url: str | None = None
    api_url: str | None = None
    post_id: str | None = None
    thread: str | None = None
    text: str = ""  # the post's words, for doxxing checks (never stored)
    context: str = ""  # the thread's opening post, read with ``text`` (never stored)

    @property
    def urls(self) -> dict[str, str]:
        """Role -> URL: removal must be verified on every one of them."""
        out = {"media": self.url, "page": self.page_url}
        if self.thumbnail_url:
            out["thumbnail"] = self.thumbnail_url
        if self.api_url:
            out["api"] = self.api_url
        return out


@dataclass
class Listing:
    media: list[MediaRef] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # threads discovered, to watch next


class Source(ABC):
    """Reads one kind of page. ``kind`` is its stable name in monitor targets."""

    kind: ClassVar[str]

    @abstractmethod
    def read(self, fetched: Fetched) -> Listing:
        """Media and further pages found in a fetched response (hostile input: be strict)."""
