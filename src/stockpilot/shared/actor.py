"""Who is acting: carried from the entry point down to the audit row."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    role: str
    all_sites: bool = True
    site_ids: frozenset[int] = field(default_factory=frozenset)
    origin: str | None = None

    def can_see_site(self, site_id: int | None) -> bool:
        return self.all_sites or site_id is None or site_id in self.site_ids


SYSTEM = Actor(user_id=None, name="system", role="admin", all_sites=True, origin="cli")
