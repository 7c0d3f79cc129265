"""Owners' votes by the Civil Code, art. 278, in exact integer arithmetic.

- Participation: owners holding at least 2/3 of the scope's area AND at least 2/3 of
  its owners by headcount ("以上" includes the bound).
- Special matters (raising the maintenance fund, altering or rebuilding, changing the
  use of common parts): at least 3/4 of the participating area AND owners approve.
- Everything else: more than 1/2 of the participating area AND owners approve.
- Headcount (SPC interpretation on 建筑物区分所有权, art. 9): one owner reference is
  one person, however many units it holds; co-owners share one reference, and the
  developer's unsold units share one. Abstentions participate but do not approve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.core.money import percentage_text

SPECIAL_MATTERS = frozenset({"maintenance_raise", "alteration", "common_use_change"})
CHOICES = ("yes", "no", "abstain")


@dataclass(frozen=True)
class Tally:
    """Every number of a vote, as integers; fractions are (numerator, denominator) pairs."""

    special: bool
    total_area_cm2: int
    total_owners: int
    voted_area_cm2: int
    voted_owners: int
    yes_area_cm2: int
    yes_owners: int
    no_area_cm2: int
    no_owners: int

    @property
    def participation_met(self) -> bool:
        return (
            self.total_owners > 0
            and 3 * self.voted_area_cm2 >= 2 * self.total_area_cm2
            and 3 * self.voted_owners >= 2 * self.total_owners
        )

    @property
    def approval_met(self) -> bool:
        if self.voted_owners == 0:
            return False
        if self.special:
            return (
                4 * self.yes_area_cm2 >= 3 * self.voted_area_cm2
                and 4 * self.yes_owners >= 3 * self.voted_owners
            )
        return (
            2 * self.yes_area_cm2 > self.voted_area_cm2 and 2 * self.yes_owners > self.voted_owners
        )

    @property
    def passed(self) -> bool:
        return self.participation_met and self.approval_met

    def as_dict(self) -> dict[str, object]:
        return {
            "special": self.special,
            "total_area_cm2": self.total_area_cm2,
            "total_owners": self.total_owners,
            "voted_area_cm2": self.voted_area_cm2,
            "voted_owners": self.voted_owners,
            "yes_area_cm2": self.yes_area_cm2,
            "yes_owners": self.yes_owners,
            "no_area_cm2": self.no_area_cm2,
            "no_owners": self.no_owners,
            "participation_area": percentage_text(self.voted_area_cm2, self.total_area_cm2),
            "participation_owners": percentage_text(self.voted_owners, self.total_owners),
            "approval_area": percentage_text(self.yes_area_cm2, self.voted_area_cm2),
            "approval_owners": percentage_text(self.yes_owners, self.voted_owners),
            "participation_met": self.participation_met,
            "approval_met": self.approval_met,
            "passed": self.passed,
        }


def count(electorate: Mapping[str, int], ballots: Mapping[str, str], special: bool) -> Tally:
    """The tally of ``ballots`` (owner → choice) over ``electorate`` (owner → area in scope).

    Order does not matter: it is a sum over owners. Ballots of owners outside the
    electorate are ignored (the rules refuse them before they get here).
    """
    voted = {owner: choice for owner, choice in ballots.items() if owner in electorate}
    yes = [owner for owner, choice in voted.items() if choice == "yes"]
    no = [owner for owner, choice in voted.items() if choice == "no"]
    return Tally(
        special=special,
        total_area_cm2=sum(electorate.values()),
        total_owners=len(electorate),
        voted_area_cm2=sum(electorate[owner] for owner in voted),
        voted_owners=len(voted),
        yes_area_cm2=sum(electorate[owner] for owner in yes),
        yes_owners=len(yes),
        no_area_cm2=sum(electorate[owner] for owner in no),
        no_owners=len(no),
    )
