"""Count what the flights job writes, from the end offsets of its output topics."""

import logging

from jobs.settings import JobSettings
from stack.topics import end_offsets

logger = logging.getLogger(__name__)


class OutputCounter:
    """Messages written to each output topic since the counter was created."""

    def __init__(self, settings: JobSettings) -> None:
        self.settings = settings
        self.topics = {
            "enriched": settings.enriched_topic,
            "window rows": settings.windows_topic,
            "late events": settings.late_topic,
            "dead letters": settings.dead_letter_topic,
        }
        self._start = self._offsets()

    def _offsets(self) -> dict[str, int]:
        return {
            label: end_offsets(self.settings.bootstrap_servers, topic)
            for label, topic in self.topics.items()
        }

    def counts(self) -> dict[str, int]:
        now = self._offsets()
        return {label: now[label] - self._start[label] for label in self.topics}

    def summary(self) -> str:
        return ", ".join(f"{count} {label}" for label, count in self.counts().items())
