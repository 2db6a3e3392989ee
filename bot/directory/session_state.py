"""What the conversation remembers about the services it has shown.

Kept in Rasa slots as plain ids so a follow-up ("the second one", "are they
open now?") is answered from fresh database reads, never from stale text.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 3


@dataclass(frozen=True)
class Shown:
    results: list[str]  # every ranked id of the last search
    offset: int  # index in results of the first service on the current page
    count: int  # how many are on the current page

    @property
    def page(self) -> list[str]:
        return self.results[self.offset : self.offset + self.count]

    @property
    def numbered(self) -> int:
        """How many services have been numbered so far (the highest number that picks one)."""
        return self.offset + self.count

    def next_page(self) -> Shown | None:
        start = self.offset + self.count
        if start >= len(self.results):
            return None
        return Shown(self.results, start, min(PAGE_SIZE, len(self.results) - start))

    def pick(self, ordinal: str) -> str | None:
        """The service meant by "the second one" or "number 4".

        Numbers count across everything shown so far, as the list numbers them;
        "last" is the last one on the current page.
        """
        if ordinal == "last":
            return self.page[-1] if self.page else None
        try:
            index = int(ordinal) - 1
        except ValueError:
            return None
        return self.results[index] if 0 <= index < self.numbered else None
