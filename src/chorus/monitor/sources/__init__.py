"""Kinds of source the monitor reads; adding one is one small class (see ``base.Source``)."""

from __future__ import annotations

from chorus.monitor.sources.base import Listing, MediaRef, Source
from chorus.monitor.sources.djangochan import Djangochan
from chorus.monitor.sources.fourchan import FourChanJson
from chorus.monitor.sources.html import HtmlPage

KINDS: dict[str, type[Source]] = {cls.kind: cls for cls in (HtmlPage, FourChanJson, Djangochan)}

__all__ = ["KINDS", "Djangochan", "FourChanJson", "HtmlPage", "Listing", "MediaRef", "Source"]
