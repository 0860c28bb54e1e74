"""The link chart reads at a glance for the story's 100 reports: grouped by what links
them, no dot on top of another, everything inside the drawing, confirmed links solid and
suggested ones dashed, and every text escaped."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

from chorus.cases import intake, linking
from chorus.web import link_chart
from tests.cases.scenario import series_reports, unrelated_reports

SVG = "{http://www.w3.org/2000/svg}"


def story_chart() -> tuple[ET.Element, list[str]]:
    answers = series_reports() + unrelated_reports()
    batch = [(n, intake.artifacts_from_answers(a)) for n, a in enumerate(answers)]
    suggestions, groups = linking.suggest(batch)
    biggest = set(max(groups, key=len))
    names = {n: f"R-{n:04d}" for n in biggest}
    edges = [
        link_chart.Edge(names[s.a], names[s.b], s.reasons, confirmed=i % 3 == 0)
        for i, s in enumerate(x for x in suggestions if x.a in biggest and x.b in biggest)
    ]
    svg = link_chart.render(sorted(names.values()), set(names.values()), edges, "Series S-1")
    return ET.fromstring(svg), sorted(names.values())


def test_a_hundred_reports_are_grouped_and_no_dot_hides_another() -> None:
    root, nodes = story_chart()
    assert len(nodes) == 100
    dots = root.findall(f"{SVG}circle[@class='report']")
    assert len(dots) == 100
    centres = [(float(d.get("cx", 0)), float(d.get("cy", 0))) for d in dots]
    closest = min(math.dist(a, b) for a, b in itertools.combinations(centres, 2))
    assert closest >= 14  # dots have a radius of 6: none touches another
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    assert all(0 < x < width and 40 < y < height for x, y in centres)
    groups = root.findall(f"{SVG}text[@class='group']")
    assert 1 <= len(groups) <= 6  # a few labelled groups, not 100 loose dots
    assert any("thread" in (g.text or "") for g in groups)
    lines = root.findall(f"{SVG}line")
    confirmed = [x for x in lines if "confirmed" in x.get("class", "")]
    suggested = [x for x in lines if "suggested" in x.get("class", "")]
    assert confirmed and suggested
    assert all(x.get("stroke-dasharray") for x in suggested)
    assert not any(x.get("stroke-dasharray") for x in confirmed)
    assert all(x.find(f"{SVG}title") is not None for x in confirmed + suggested)


def test_text_is_escaped_and_small_charts_fit_the_legend() -> None:
    edge = link_chart.Edge("R-<b>", "R-2", ["both report <script>alert(1)</script>"], False)
    svg = link_chart.render(["R-<b>", "R-2"], {"R-2"}, [edge], "S & <1>")
    assert "<script>" not in svg and "<b>" not in svg and "S &amp; &lt;1&gt;" in svg
    root = ET.fromstring(svg)
    assert float(root.get("viewBox", "").split()[2]) >= 680
    assert root.find(f"{SVG}circle[@stroke-dasharray]") is not None  # outside the series
