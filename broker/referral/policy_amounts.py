"""What government policies account for of a money request (policy before charity, see
:mod:`broker.referral.policy_holds`): read from its holds, for the lifecycle's sums."""

from __future__ import annotations

from models import AidRequest


def policy_fen(req: AidRequest) -> int:
    """What policies are expected to pay: held while their applications are undecided,
    or covered once approved."""
    return sum(h.amount_fen for h in req.policy_holds if h.status in ("held", "covered"))


def policy_covered_fen(req: AidRequest) -> int:
    """What approved policy applications cover of the request."""
    return sum(h.amount_fen for h in req.policy_holds if h.status == "covered")
