"""The story as data: 100 reports in one day about one board's threads, and 50 that are not.

Seeded and deterministic. Each of the 100 cites the town thread or its continuation (in
every spelling people paste: www or not, http or https, trailing slash, tracking
parameters, the JSON address, a mirror domain), some name the same acquaintance with
spelling variants, and they come in by different routes with different words. The 50
unrelated reports share only the board's root address or the town with them.
"""

from __future__ import annotations

import random

BOARD = "https://board.example"
TOWN = "Exampletown"
THREADS = ("/b/thread/48213", "/b/thread/48990")
MIRROR = "http://mirror-board.example.net"
ACQUAINTANCE = ("Jon Smyth", "John Smith", "jon smith", "Jonathan Smyth", "JOHN SMYTH")
ROUTES = ("web", "phone", "police", "api")
WORDING = (
    "My photos were posted on a board thread about our town.",
    "Someone put pictures of me on an image board.",
    "I found private images of me online, in a thread.",
    "Friend told me my photos are on a website thread",
)


def spelling(rng: random.Random, path: str) -> str:
    choices = [
        f"{BOARD}{path}",
        f"https://www.board.example{path}/",
        f"http://BOARD.example{path}?utm_source=whatsapp#p{rng.randint(1, 999)}",
        f"board.example{path}.json",
        f"{MIRROR}{path.replace('/thread/', '/res/')}.html",
    ]
    return rng.choice(choices)


def series_reports(seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for n in range(100):
        paths = [THREADS[0]] if n % 3 else [THREADS[1]]
        if n % 10 == 0:
            paths = list(THREADS)  # some saw both: the bridge between the two threads
        answers: dict[str, object] = {
            "what_was_shared": rng.choice(WORDING),
            "urls": [spelling(rng, p) for p in paths] + [BOARD + "/"],
            "how_obtained": rng.choice(
                ["hacked_account", "sent_to_someone", "social_media", "taken_covertly", "unknown"]
            ),
            "people_with_access": [rng.choice(ACQUAINTANCE)] if n % 4 == 0 else [],
            "own_details_seen": {"town": TOWN},
            "route": ROUTES[n % len(ROUTES)],
        }
        out.append(answers)
    return out


FIRST = ("Amara", "Bilal", "Chloe", "Dmitri", "Esme", "Farid", "Grace", "Hugo", "Ines", "Jonas")
LAST = ("Okafor", "Lindqvist", "Moreau", "Petrov", "Quinn")


def unrelated_reports(seed: int = 8) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for n in range(50):
        answers: dict[str, object] = {
            "what_was_shared": "Images of me were shared without my consent.",
            "urls": [f"https://site{n}.example/p/{rng.randint(1, 10**6)}"]
            + ([BOARD] if n % 2 else []),
            "how_obtained": "sent_to_someone",
            "people_with_access": [f"{FIRST[n % 10]} {LAST[n // 10]}"],
            "own_details_seen": {"town": TOWN},
            "route": "web",
        }
        out.append(answers)
    return out
