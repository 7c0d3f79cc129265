"""The demo's decisions (2025): proposals, approvals, owners' votes, an emergency, progress,
reviews, objections and a charter amendment — the governance half of the year.

Drafts only; ``api.demo`` signs them in time order. ``@tag`` values cite the entry of an
earlier draft with that tag (a proposal, a key registration, an expense).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence

from api.demo_story import Draft, StoryUnit, at
from ledger.core.statements import statement_at

PAPER_BALLOT_CLERK = "committee-li"


def scan_hash(proposal: str, owner: str) -> str:
    """The SHA-256 of a paper ballot's scan (the demo stands in for the scanned file)."""
    return hashlib.sha256(f"glasspocket-demo/ballot-scan/{proposal}/{owner}".encode()).hexdigest()


def owners_in(units: Sequence[StoryUnit], buildings: Sequence[str] | None = None) -> list[str]:
    """Distinct owner references of the units in scope (one person per reference)."""
    seen: dict[str, None] = {}
    for unit in units:
        if buildings is None or unit.building in buildings:
            seen.setdefault(unit.owner, None)
    return list(seen)


class GovernanceStory:
    """The year's decisions. ``e_voters`` maps owner references to owner-key handles."""

    def __init__(
        self, units: list[StoryUnit], rng: random.Random, e_voters: dict[str, str]
    ) -> None:
        self.units = units
        self.rng = rng
        self.e_voters = e_voters

    def drafts(self) -> list[Draft]:
        return [
            *self._key_approvals(),
            *self._charter_vote(),
            *self._committee_spending(),
            *self._transfer_vote(),
            *self._failed_vote(),
            *self._elevator_vote(),
            *self._facade_emergency(),
            *self._objections(),
            *self._year_end_refund(),
            *self._lost_phone(),
            *self._quarterly_statements(),
        ]

    # --- pieces -----------------------------------------------------------------------------------

    def _key_approvals(self) -> Iterator[Draft]:
        """The chair registered the treasurer and the trustee; a second member approves each."""
        for tag in ("treasurer-key", "trustee-key"):
            yield Draft(
                at("2025-01", 2, "11:00:00"),
                "committee-wang",
                "approval.signed",
                {"subject_id": f"@{tag}", "note": "第二位委员批准 second member approves"},
            )

    def _ballots(
        self, tag: str, owners: list[str], days: tuple[str, int, int], turnout: float, yes: float
    ) -> Iterator[Draft]:
        month, first, last = days
        for owner in owners:
            if self.rng.random() >= turnout:
                continue
            roll = self.rng.random()
            choice = "yes" if roll < yes else ("no" if roll < yes + (1 - yes) * 0.6 else "abstain")
            when = at(month, self.rng.randint(first, last), "19:30:00")
            if owner in self.e_voters:
                yield Draft(
                    when,
                    self.e_voters[owner],
                    "ballot.cast",
                    {"proposal_id": f"@{tag}", "choice": choice},
                )
            else:
                yield Draft(
                    when,
                    PAPER_BALLOT_CLERK,
                    "ballot.recorded",
                    {
                        "proposal_id": f"@{tag}",
                        "owner": owner,
                        "choice": choice,
                        "scan_sha256": scan_hash(tag, owner),
                    },
                )

    def _proposal(self, when: str, author: str, tag: str, body: dict[str, object]) -> Draft:
        return Draft(when, author, "proposal.submitted", dict(body), tag)

    def _charter_vote(self) -> Iterator[Draft]:
        yield self._proposal(
            at("2025-02", 10),
            "committee-chair",
            "charter-vote",
            {
                "title": "修订管理规约：公示期延长至 10 天 Charter: publicity of 10 days",
                "matter": "charter",
                "needs": "owners",
                "description": "方案与支出公示期由 7 天延长至 10 天 publicity extended from 7 to 10 days",
            },
        )
        yield from self._ballots(
            "charter-vote", owners_in(self.units), ("2025-02", 18, 25), 0.9, 0.85
        )
        yield Draft(
            at("2025-02", 28), "committee-chair", "vote.closed", {"proposal_id": "@charter-vote"}
        )
        yield Draft(
            at("2025-03", 1),
            "committee-chair",
            "charter.amended",
            {
                "publicity_days": 10,
                "proposal_id": "@charter-vote",
                "text_sha256": hashlib.sha256(b"demo charter 2025-03").hexdigest(),
            },
        )

    def _committee_spending(self) -> Iterator[Draft]:
        """Two purchases from the community fund, each approved by two members (not the author)."""
        yield self._proposal(
            at("2025-03", 20),
            "committee-wang",
            "activity-room",
            {
                "title": "老年活动室桌椅 Tables and chairs for the elderly room",
                "matter": "spending",
                "needs": "committee",
                "fund": "community",
                "budget_fen": 200_000,
                "description": "使用定向捐赠购置桌椅 from the restricted donation",
            },
        )
        yield from self._approve(
            "activity-room", at("2025-03", 21), ("committee-chair", "committee-li")
        )
        yield self._proposal(
            at("2025-05", 20),
            "committee-chair",
            "charging-shed",
            {
                "title": "电动车充电棚 E-bike charging shed",
                "matter": "spending",
                "needs": "committee",
                "fund": "community",
                "budget_fen": 1_700_000,
                "description": "街道补助资金建设充电棚 built with the sub-district grant",
            },
        )
        yield from self._approve(
            "charging-shed", at("2025-05", 21), ("committee-wang", "committee-li")
        )
        yield from self._progress(
            "charging-shed",
            [("2025-06", 10), ("2025-07", 1), ("2025-08", 30), ("2025-09", 10)],
            "trustee",
        )
        yield Draft(
            at("2025-09", 20),
            "committee-chair",
            "project.reviewed",
            {
                "proposal_id": "@charging-shed",
                "rating": 5,
                "summary": "充电棚投入使用，飞线充电基本消失 flying-lead charging has stopped",
            },
        )

    def _approve(self, tag: str, when: str, members: Sequence[str]) -> Iterator[Draft]:
        for member in members:
            yield Draft(when, member, "approval.signed", {"subject_id": f"@{tag}"})

    def _progress(self, tag: str, dates: Sequence[tuple[str, int]], actor: str) -> Iterator[Draft]:
        stages = ("contracted", "started", "completed", "accepted")
        for stage, (month, day) in zip(stages, dates, strict=True):
            yield Draft(
                at(month, day, "15:00:00"),
                actor,
                "project.progressed",
                {
                    "proposal_id": f"@{tag}",
                    "stage": stage,
                    "note": f"{stage}",
                    "documents": [hashlib.sha256(f"{tag}/{stage}".encode()).hexdigest()],
                },
            )

    def _transfer_vote(self) -> Iterator[Draft]:
        yield self._proposal(
            at("2025-06", 1),
            "committee-chair",
            "transfer-vote",
            {
                "title": "上半年公共收益净额转入维修资金 H1 net common revenue into the maintenance fund",
                "matter": "spending",
                "needs": "owners",
                "fund": "public_revenue",
                "budget_fen": 2_000_000,
                "description": "转入 2 万元，按面积记入各户分户账 20,000 yuan, credited by floor area",
            },
        )
        yield from self._ballots(
            "transfer-vote", owners_in(self.units), ("2025-06", 12, 20), 0.88, 0.9
        )
        yield Draft(
            at("2025-06", 25), "committee-chair", "vote.closed", {"proposal_id": "@transfer-vote"}
        )

    def _failed_vote(self) -> Iterator[Draft]:
        """Turning a lawn into a fitness corner: too few owners vote, so it fails."""
        yield self._proposal(
            at("2025-06", 15),
            "committee-wang",
            "fitness-vote",
            {
                "title": "草坪改建健身角 A fitness corner on the lawn",
                "matter": "common_use_change",
                "needs": "owners",
                "fund": "public_revenue",
                "budget_fen": 3_000_000,
                "description": "改变共有部分用途，须经双四分之三同意 changes the use of common parts",
            },
        )
        yield from self._ballots(
            "fitness-vote", owners_in(self.units), ("2025-06", 26, 30), 0.45, 0.7
        )
        yield Draft(
            at("2025-07", 10), "committee-wang", "vote.closed", {"proposal_id": "@fitness-vote"}
        )

    def _elevator_vote(self) -> Iterator[Draft]:
        """Only building 2's owners bear and vote on building 2's elevator (art. 283)."""
        yield self._proposal(
            at("2025-07", 1),
            "committee-chair",
            "elevator-vote",
            {
                "title": "2号楼电梯主机更换 Building 2 elevator traction machine",
                "matter": "maintenance_use",
                "needs": "owners",
                "fund": "maintenance",
                "budget_fen": 7_000_000,
                "buildings": ["2"],
                "description": "三家报价，选最低价 three quotes, lowest chosen",
                "documents": [hashlib.sha256(b"elevator quotes 2025-06").hexdigest()],
            },
        )
        yield from self._ballots(
            "elevator-vote", owners_in(self.units, ["2"]), ("2025-07", 12, 25), 0.92, 0.88
        )
        yield Draft(
            at("2025-07", 28), "committee-chair", "vote.closed", {"proposal_id": "@elevator-vote"}
        )
        yield from self._progress(
            "elevator-vote",
            [("2025-08", 1), ("2025-08", 5), ("2025-08", 15), ("2025-08", 20)],
            "treasurer",
        )
        yield Draft(
            at("2025-09", 1),
            "committee-chair",
            "project.reviewed",
            {
                "proposal_id": "@elevator-vote",
                "rating": 4,
                "summary": "运行平稳，停梯次数明显减少 runs smoothly, far fewer stoppages",
            },
        )

    def _facade_emergency(self) -> Iterator[Draft]:
        """Loose façade tiles on building 3: the sub-district office confirms an emergency."""
        yield self._proposal(
            at("2025-10", 12, "08:30:00"),
            "committee-chair",
            "facade",
            {
                "title": "3号楼外墙瓷砖脱落应急维修 Building 3 façade tiles: emergency repair",
                "matter": "maintenance_use",
                "needs": "emergency",
                "fund": "maintenance",
                "budget_fen": 1_500_000,
                "buildings": ["3"],
                "description": "外墙瓷砖空鼓脱落，危及行人 loose tiles endanger passers-by",
            },
        )
        yield Draft(
            at("2025-10", 12, "11:00:00"),
            "jiedao",
            "emergency.declared",
            {
                "proposal_id": "@facade",
                "cap_fen": 1_500_000,
                "buildings": ["3"],
                "reason": "街道现场核实，确认危及安全 confirmed on site by the sub-district office",
            },
            "facade-emergency",
        )

    def _objections(self) -> Iterator[Draft]:
        objector = next(iter(self.e_voters.values()))
        yield Draft(
            at("2025-06", 3, "20:00:00"),
            objector,
            "objection.raised",
            {
                "target_id": "@security-2025-05",
                "text": "5 月保安费为何高于 4 月？ Why was May's security cost above April's?",
            },
            "objection-security",
        )
        yield Draft(
            at("2025-06", 8),
            "trustee",
            "objection.answered",
            {
                "objection_id": "@objection-security",
                "outcome": "explained",
                "text": "5 月增加夜班巡逻一人 one more night patrol in May",
            },
        )
        yield Draft(
            at("2025-08", 25, "20:00:00"),
            objector,
            "objection.raised",
            {
                "target_id": "@elevator-draw",
                "text": "电梯更换后噪音仍大，请说明验收标准 still noisy: what was accepted?",
            },
        )

    def _year_end_refund(self) -> Iterator[Draft]:
        yield self._proposal(
            at("2025-12", 18),
            "committee-chair",
            "refund",
            {
                "title": "2025 年物业费结余退还 Refund of the 2025 property-fund surplus",
                "matter": "spending",
                "needs": "committee",
                "fund": "property",
                "budget_fen": 3_000_000,
                "description": "按面积退还 refunded by floor area",
            },
        )
        yield from self._approve("refund", at("2025-12", 19), ("committee-wang", "committee-li"))

    def _lost_phone(self) -> Iterator[Draft]:
        """An owner loses the phone holding their key: the committee revokes it (key.revoked);
        entries it signed before stay valid, nothing it signs after will be."""
        owner, handle = next(iter(self.e_voters.items()))
        yield Draft(
            at("2025-11", 5),
            "committee-wang",
            "key.revoked",
            {
                "name": f"demo/{handle}",
                "reason": f"业主 {owner} 手机遗失，密钥作废 phone lost; key revoked",
            },
        )

    def _quarterly_statements(self) -> Iterator[Draft]:
        """资金公开: the treasurer publishes each quarter at its last second; two members approve."""
        approvals_on = {
            "2025Q1": "2025-04",
            "2025Q2": "2025-07",
            "2025Q3": "2025-10",
            "2025Q4": "2026-01",
        }
        for period, month in approvals_on.items():
            yield Draft(
                statement_at(period),
                "treasurer",
                "statement.published",
                {"period": period},
                f"statement-{period}",
            )
            yield from self._approve(
                f"statement-{period}", at(month, 6, "10:00:00"), ("committee-wang", "committee-li")
            )
