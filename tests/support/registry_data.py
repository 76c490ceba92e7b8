"""Demo-like registry data for the tests: grids on 海淀区's 中关村街道, households as a
caseworker records them after a visit, with valid resident ID numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from broker.registry import identity

GRIDS = {
    "HD-ZGC-01": ("中关村东路第一网格", "海淀区", "中关村街道", "科源社区"),
    "HD-ZGC-02": ("黄庄第二网格", "海淀区", "中关村街道", "黄庄社区"),
    "CY-JSC-01": ("劲松第一网格", "朝阳区", "劲松街道", "劲松北社区"),
}


def grid_body(code: str) -> dict[str, str]:
    name, district, street, community = GRIDS[code]
    return {"code": code, "name": name, "district": district, "street": street, "community": community}


def make_grids(admin: Any, *codes: str) -> None:
    for code in codes or tuple(GRIDS):
        resp = admin.post("/api/v1/grids", json=grid_body(code))
        assert resp.status_code == 201, resp.get_json()


def id_number(born: date, seq: str = "123", region: str = "110108") -> str:
    return identity.make(region, born, seq)


def vendor_family(grid: str = "HD-ZGC-01", *, survey_ref: str | None = None, seq: str = "1") -> dict[str, Any]:
    """The model case: a street vendor's son has acute leukaemia and is in hospital in
    another city with his mother; two school-age children are at home."""
    body: dict[str, Any] = {
        "grid": grid,
        "address": "海淀区中关村东路18号院3号楼2单元501",
        "head_name": "张建国",
        "phone": "138 0013 8000",
        "monthly_income_fen": 240000,
        "consent_to_share": True,
        "sudden_hardship": True,
        "members": [
            {
                "name": "张建国",
                "id_number": id_number(date(1979, 4, 12), f"{seq}31"),
                "birth_date": "1979-04-12",
                "relation": "head",
                "employment": "self_employed",
                "schooling": "junior",
            },
            {
                "name": "李秀兰",
                "id_number": id_number(date(1981, 9, 3), f"{seq}42"),
                "relation": "spouse",
                "employment": "unemployed",
            },
            {
                "name": "张浩",
                "birth_date": "2010-06-20",
                "relation": "child",
                "conditions": ["leukaemia"],
                "schooling": "junior",
                "employment": "student",
            },
            {"name": "张婷", "birth_date": "2014-02-08", "relation": "child", "schooling": "primary"},
            {"name": "张磊", "birth_date": "2017-11-30", "relation": "child", "schooling": "primary"},
        ],
    }
    if survey_ref:
        body["survey_ref"] = survey_ref
    return body


def elderly_couple(grid: str = "HD-ZGC-02", *, seq: str = "5") -> dict[str, Any]:
    """A widowed grandmother with a disability caring for her grandson."""
    return {
        "grid": grid,
        "address": "海淀区海淀黄庄路7号楼1单元302",
        "monthly_income_fen": 150000,
        "members": [
            {
                "name": "王桂英",
                "id_number": id_number(date(1950, 1, 23), f"{seq}62"),
                "relation": "head",
                "disability_grade": 2,
                "employment": "retired",
            },
            {"name": "王子涵", "birth_date": "2012-05-17", "relation": "grandchild", "schooling": "primary"},
        ],
    }
