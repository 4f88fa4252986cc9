"""Tenders end to end through the API, with rankings computed by hand in the comments.

Commitments in these tests plan no energy, so each line is projected at the reference
consumption (planned reduction 0) and, with the default carbon parameters (w_share = w_red = 0.5,
no history -> commitment only), S = 100 × 0.5 × certified share: share 1 -> S 50, 0.5 -> 25, 0 -> 0.
The carbon criterion's points are max_points × S / 100.
"""

from __future__ import annotations

from decimal import Decimal

from tests.factories import user_of
from tests.scoring.factories import TenderFlow


def _criteria(*rows: tuple[str, str, bool]) -> list[dict[str, object]]:
    return [{"code": c, "name": c, "max_points": p, "is_carbon": carbon} for c, p, carbon in rows]


def test_jp_division_mlit_numbers(api):
    """除算方式, 予定価格 ¥500,000,000, 標準点 100, 加算点 = committee mean + carbon points.

    A: price 450,000,000, share 1 -> S 50 -> carbon 10×0.5 = 5; proposal (24+26)/2 = 25
       -> 加算点 30 -> 評価値 (100+30)/450,000,000 × 10^8 = 28.888…
    B: price 420,000,000, share 0 -> carbon 0; proposal (18+20)/2 = 19
       -> 119/420,000,000 × 10^8 = 28.333…
    C: price 480,000,000, share 0.5 -> S 25 -> carbon 2.5; proposal 30 -> 加算点 32.5
       -> 132.5/480,000,000 × 10^8 = 27.604…
    基準評価値 = 100 / 500,000,000 × 10^8 = 20 -> all eligible. Ranking A, B, C.
    """
    flow = TenderFlow(api, members=2)
    flow.create(
        method="jp_division",
        ceiling_price="500000000",
        criteria=_criteria(("proposal", "30", False), ("carbon", "10", True)),
    )
    flow.action("open")
    flow.bid("A", "450000000", "1")
    flow.bid("B", "420000000", "0")
    flow.bid("C", "480000000", "0.5")
    # price above the ceiling: refused, nothing saved
    err = flow.bid("D", "510000000", "1", expect=422)
    assert "price" in err["errors"]
    flow.action("close")
    flow.score(0, {"A": {"proposal": 24}, "B": {"proposal": 18}, "C": {"proposal": 30}})
    flow.score(1, {"A": {"proposal": 26}, "B": {"proposal": 20}, "C": {"proposal": 30}})
    evaluation = flow.evaluate()
    result = flow.by_label(evaluation["result"])
    assert [result[k]["position"] for k in "ABC"] == [1, 2, 3]
    assert Decimal(result["A"]["method_value"]).quantize(Decimal("0.001")) == Decimal("28.889")
    assert Decimal(result["B"]["method_value"]).quantize(Decimal("0.001")) == Decimal("28.333")
    assert Decimal(result["C"]["method_value"]).quantize(Decimal("0.001")) == Decimal("27.604")
    assert Decimal(result["C"]["components"]["added_points"]) == Decimal("32.5")
    assert Decimal(result["A"]["components"]["threshold_value"]) == Decimal("20")
    assert evaluation["snapshot"]["inputs"]["params"]["ceiling_price"] == "500000000"


def test_tw_rank_tie_broken_by_15_1(api):
    """序位法, 3 members; criteria quality 50 (highest points), plan 30, carbon 20; all bidders
    share 1 -> S 50 -> carbon 10 points each.

    member totals (quality + plan + 10):      ranks
      m1: X 45+30+10=85, Y 42+28+10=80, Z 40+25+10=75   X1 Y2 Z3
      m2: Y 46+30+10=86, X 43+28+10=81, Z 40+26+10=76   Y1 X2 Z3
      m3: Z 45+29+10=84, X 44+25+10=79, Y 40+29+10=79   Z1 X2.5 Y2.5
    rank sums X 5.5, Y 5.5, Z 7 -> X and Y tie. §15-1(2): sum of the highest-points criterion
    (quality): X 45+43+44 = 132 > Y 42+46+40 = 128 -> X first, Y second, Z third.
    """
    flow = TenderFlow(api, members=3)
    flow.create(
        method="tw_rank",
        total_points="100",
        criteria=_criteria(("quality", "50", False), ("plan", "30", False), ("carbon", "20", True)),
    )
    flow.action("open")
    for label in "XYZ":
        flow.bid(label, "1000000", "1")
    flow.action("close")
    flow.score(
        0,
        {
            "X": {"quality": 45, "plan": 30},
            "Y": {"quality": 42, "plan": 28},
            "Z": {"quality": 40, "plan": 25},
        },
    )
    flow.score(
        1,
        {
            "X": {"quality": 43, "plan": 28},
            "Y": {"quality": 46, "plan": 30},
            "Z": {"quality": 40, "plan": 26},
        },
    )
    flow.score(
        2,
        {
            "X": {"quality": 44, "plan": 25},
            "Y": {"quality": 40, "plan": 29},
            "Z": {"quality": 45, "plan": 29},
        },
    )
    evaluation = flow.evaluate()
    result = flow.by_label(evaluation["result"])
    assert [result[k]["position"] for k in "XYZ"] == [1, 2, 3]
    assert [Decimal(result[k]["rank_sum"]) for k in "XYZ"] == [Decimal("5.5"), Decimal("5.5"), Decimal(7)]
    assert result["X"]["tie_break"] == "highest_weighted_criterion:quality"
    # the tie and its explanation are reproduced exactly from the snapshot
    url = f"/api/v1/tenders/{flow.tid}/evaluations/{evaluation['id']}/reproduce"
    assert flow.agency_api.post(url).get_json()["identical"] is True
    (tie,) = evaluation["result"]["tie_breaks"]
    assert tie["steps"][0]["values"] == {
        f"B{flow.bid_ids['X']}": "132",
        f"B{flow.bid_ids['Y']}": "128",
    }


def test_tw_price_per_score(api):
    """評分單價法, 2 members, tech 70 + carbon 30, pass mark 70.

    P: 9,000,000, share 1 -> S 50 -> carbon 15; totals 60+15=75, 62+15=77 -> mean 76
       -> 9,000,000 / 76 = 118,421.05
    Q: 8,000,000, share 0 -> carbon 0; totals 68, 70 -> mean 69 < 70 -> not eligible
    R: 8,500,000, share 0.5 -> S 25 -> carbon 7.5; totals 71.5, 73.5 -> mean 72.5
       -> 8,500,000 / 72.5 = 117,241.38 -> lowest: R wins, P second.
    """
    flow = TenderFlow(api, members=2)
    flow.create(
        method="tw_price_per_score",
        total_points="100",
        pass_mark="70",
        criteria=_criteria(("tech", "70", False), ("carbon", "30", True)),
    )
    flow.action("open")
    flow.bid("P", "9000000", "1")
    flow.bid("Q", "8000000", "0")
    flow.bid("R", "8500000", "0.5")
    flow.action("close")
    flow.score(0, {"P": {"tech": 60}, "Q": {"tech": 68}, "R": {"tech": 64}})
    flow.score(1, {"P": {"tech": 62}, "Q": {"tech": 70}, "R": {"tech": 66}})
    result = flow.by_label(flow.evaluate()["result"])
    assert result["R"]["position"] == 1 and result["P"]["position"] == 2
    assert result["Q"]["eligible"] is False and result["Q"]["position"] is None
    assert "pass mark" in result["Q"]["reasons"][0]
    assert Decimal(result["R"]["method_value"]).quantize(Decimal("0.01")) == Decimal("117241.38")
    assert Decimal(result["P"]["method_value"]).quantize(Decimal("0.01")) == Decimal("118421.05")


def _simple_total(api, members: int = 1) -> TenderFlow:
    flow = TenderFlow(api, members=members)
    flow.create(
        method="tw_total",
        total_points="100",
        criteria=_criteria(("quality", "80", False), ("carbon", "20", True)),
    )
    return flow


def test_settings_frozen_once_open(api, session):
    flow = _simple_total(api)
    resp = flow.agency_api.patch(f"/api/v1/tenders/{flow.tid}", json={"title": "Renamed"})
    assert resp.status_code == 200 and resp.get_json()["title"] == "Renamed"
    flow.action("open")
    resp = flow.agency_api.patch(f"/api/v1/tenders/{flow.tid}", json={"title": "Again", "pass_mark": "50"})
    assert resp.status_code == 409
    got = flow.agency_api.get(f"/api/v1/tenders/{flow.tid}").get_json()
    assert got["title"] == "Renamed" and Decimal(got["pass_mark"]) == Decimal("70")
    flow.action("open", expect=409)


def test_bad_settings_name_the_field(api):
    flow = TenderFlow(api)
    body = {
        "project_id": flow.project.id,
        "reference": "T-BAD",
        "title": "Bad",
        "method": "tw_total",
        "total_points": "100",
        "criteria": _criteria(("quality", "70", False), ("carbon", "20", True)),
    }
    resp = flow.agency_api.post("/api/v1/tenders", json=body)
    assert resp.status_code == 422 and "total_points" in resp.get_json()["errors"]
    body["criteria"] = [
        {"code": "quality", "max_points": "80", "weight": "1.5"},
        {"code": "carbon", "max_points": "20", "is_carbon": True},
    ]
    resp = flow.agency_api.post("/api/v1/tenders", json=body)
    assert resp.status_code == 422
    assert any("weight" in k for k in resp.get_json()["errors"])
    body["criteria"] = _criteria(("quality", "80", False), ("carbon", "20", False))
    resp = flow.agency_api.post("/api/v1/tenders", json=body)
    assert resp.status_code == 422 and "criteria" in resp.get_json()["errors"]
    body.update(method="jp_division", criteria=_criteria(("quality", "80", False), ("carbon", "20", True)))
    resp = flow.agency_api.post("/api/v1/tenders", json=body)
    assert resp.status_code == 422 and "ceiling_price" in resp.get_json()["errors"]
    assert flow.agency_api.get("/api/v1/tenders").get_json()["total"] == 0


def test_sheets_signing_and_errors(api):
    flow = _simple_total(api, members=2)
    flow.action("open")
    flow.bid("A", "100", "1")
    flow.bid("B", "100", "0")
    # scoring before bidding closes
    m0 = flow.member_apis[0]
    url = f"/api/v1/tenders/{flow.tid}/sheets/me"
    a, b = str(flow.bid_ids["A"]), str(flow.bid_ids["B"])
    assert m0.post(url, json={"scores": {a: {"quality": 50}, b: {"quality": 60}}}).status_code == 409
    flow.action("close")
    # above max, missing, carbon entered -> 422 naming the field; nothing saved
    resp = m0.post(url, json={"scores": {a: {"quality": 81}, b: {"quality": 60}}})
    assert resp.status_code == 422 and f"scores[{a}][quality]" in resp.get_json()["errors"]
    resp = m0.post(url, json={"scores": {a: {"quality": 50}}})
    assert resp.status_code == 422 and f"scores[{b}][quality]" in resp.get_json()["errors"]
    resp = m0.post(url, json={"scores": {a: {"quality": 50, "carbon": 10}, b: {"quality": 60}}})
    assert resp.status_code == 422 and f"scores[{a}][carbon]" in resp.get_json()["errors"]
    assert m0.get(url).get_json()["scores"] == {}
    # enter, scoring twice is refused, replace before signing, sign, then immutable
    assert m0.post(url, json={"scores": {a: {"quality": 50}, b: {"quality": 60}}}).status_code == 201
    assert m0.post(url, json={"scores": {a: {"quality": 51}, b: {"quality": 60}}}).status_code == 409
    assert m0.put(url, json={"scores": {a: {"quality": 55}, b: {"quality": 60}}}).status_code == 200
    # evaluating before every sheet is signed
    resp = flow.agency_api.post(f"/api/v1/tenders/{flow.tid}/evaluate")
    assert resp.status_code == 409 and "members" in resp.get_json()["errors"]
    assert m0.post(url + "/sign").status_code == 200
    assert m0.put(url, json={"scores": {a: {"quality": 1}, b: {"quality": 1}}}).status_code == 409
    assert m0.post(url + "/sign").status_code == 409
    assert m0.get(url).get_json()["scores"][a]["quality"] == "55.0000" or Decimal(
        m0.get(url).get_json()["scores"][a]["quality"]
    ) == Decimal(55)
    # divergence: member 2 scores A 10 vs 55 -> |45| > 20 flagged
    flow.score(1, {"A": {"quality": 10}, "B": {"quality": 60}})
    overview = flow.agency_api.get(f"/api/v1/tenders/{flow.tid}/sheets").get_json()
    assert all(m["signed_at"] for m in overview["members"])
    flagged = {(f["bidder_id"], f["member_id"]) for f in overview["divergence_flags"]}
    assert (f"B{a}", f"M{overview['members'][0]['member_id']}") in flagged
    evaluation = flow.evaluate()
    assert evaluation["result"]["divergence_flags"]


def test_snapshot_reproduces_identically(api, session):
    flow = _simple_total(api, members=2)
    flow.action("open")
    flow.bid("A", "100", "1")
    flow.bid("B", "100", "0.5")
    flow.action("close")
    flow.score(0, {"A": {"quality": 70}, "B": {"quality": 72}})
    flow.score(1, {"A": {"quality": 66}, "B": {"quality": 69}})
    evaluation = flow.evaluate()
    snap = evaluation["snapshot"]
    assert set(snap) >= {"inputs", "carbon_params", "carbon", "members", "bidders", "as_of"}
    a_key = f"B{flow.bid_ids['A']}"
    assert snap["carbon"][a_key]["commitment"]["factor_refs"]["lines"][0]["diesel_factor"]["id"]
    url = f"/api/v1/tenders/{flow.tid}/evaluations/{evaluation['id']}/reproduce"
    out = flow.agency_api.post(url).get_json()
    assert out["identical"] is True and out["differences"] == []
    assert out["result"] == evaluation["result"]
    # a tampered stored result is detected
    from scoring.models import Evaluation

    row = session.get(Evaluation, evaluation["id"])
    changed = dict(row.result)
    changed["winner_id"] = "nobody"
    row.result = changed
    session.flush()
    assert flow.agency_api.post(url).get_json()["identical"] is False


def test_other_agency_gets_404(api):
    flow = _simple_total(api)
    other = api(user_of("agency"))
    for method, url in [
        ("get", f"/api/v1/tenders/{flow.tid}"),
        ("patch", f"/api/v1/tenders/{flow.tid}"),
        ("post", f"/api/v1/tenders/{flow.tid}/open"),
        ("post", f"/api/v1/tenders/{flow.tid}/evaluate"),
        ("get", f"/api/v1/tenders/{flow.tid}/evaluations"),
        ("get", f"/api/v1/tenders/{flow.tid}/report"),
    ]:
        kwargs = {"json": {"title": "x"}} if method == "patch" else {}
        resp = getattr(other, method)(url, **kwargs)
        assert resp.status_code == 404, (url, resp.status_code)
    assert other.get("/api/v1/tenders").get_json()["total"] == 0
    # a contractor cannot see a draft; anonymous is 401
    assert api(user_of("contractor")).get(f"/api/v1/tenders/{flow.tid}").status_code == 404
    assert api(None).get(f"/api/v1/tenders/{flow.tid}").status_code == 401
    # a project of another agency cannot carry a tender
    resp = other.post(
        "/api/v1/tenders",
        json={
            "project_id": flow.project.id,
            "reference": "T-STEAL",
            "title": "x",
            "method": "tw_total",
            "criteria": _criteria(("q", "80", False), ("carbon", "20", True)),
        },
    )
    assert resp.status_code == 422 and "project_id" in resp.get_json()["errors"]


def test_bidder_sees_only_its_own_until_published(api):
    flow = _simple_total(api)
    flow.action("open")
    flow.bid("A", "100", "1")
    flow.bid("B", "100", "0")
    flow.action("close")
    flow.score(0, {"A": {"quality": 70}, "B": {"quality": 75}})
    flow.evaluate()
    a_api = api(flow.bidders["A"])
    rep = a_api.get(f"/api/v1/tenders/{flow.tid}/report").get_json()
    assert rep["scope"] == "own" and len(rep["rows"]) == 1
    assert rep["rows"][0]["bid_id"] == flow.bid_ids["A"]
    assert rep["tie_breaks"] == [] and rep["divergence_flags"] == []
    assert rep["rows"][0]["tie_break_text"] is None
    bids = a_api.get(f"/api/v1/tenders/{flow.tid}/bids").get_json()
    assert [b["id"] for b in bids] == [flow.bid_ids["A"]]
    assert a_api.get(f"/api/v1/tenders/{flow.tid}/bids/{flow.bid_ids['B']}").status_code == 404
    stranger = api(user_of("contractor"))
    assert stranger.get(f"/api/v1/tenders/{flow.tid}/report").status_code == 404
    assert api(None).get(f"/api/v1/public/tender-results/{flow.tid}").status_code == 404
    flow.action("publish")
    public = api(None).get(f"/api/v1/public/tender-results/{flow.tid}").get_json()
    assert len(public["rows"]) == 2 and "member_totals" not in public["rows"][0]
    assert {"price", "technical_points", "method_value", "position"} <= set(public["rows"][0])
    rep = a_api.get(f"/api/v1/tenders/{flow.tid}/report").get_json()
    assert rep["scope"] == "public" and len(rep["rows"]) == 2


def test_tw_total(api):
    """總評分法, 2 members, quality 80 + carbon 20, pass mark 70.

    A: share 1 -> S 50 -> carbon 10; totals 70+10 = 80, 74+10 = 84 -> mean 82
    B: share 0 -> carbon 0; totals 78, 80 -> mean 79 -> A first although B's members liked it more.
    """
    flow = _simple_total(api, members=2)
    flow.action("open")
    flow.bid("A", "100", "1")
    flow.bid("B", "100", "0")
    flow.action("close")
    flow.score(0, {"A": {"quality": 70}, "B": {"quality": 78}})
    flow.score(1, {"A": {"quality": 74}, "B": {"quality": 80}})
    result = flow.by_label(flow.evaluate()["result"])
    assert (result["A"]["position"], Decimal(result["A"]["total"])) == (1, Decimal(82))
    assert (result["B"]["position"], Decimal(result["B"]["total"])) == (2, Decimal(79))


def test_jp_addition(api):
    """加算方式, 予定価格 100,000,000, 価格評価点 50; technical = mean total (carbon included).

    A: 90,000,000, share 1 -> carbon 10×0.5 = 5; tech 30 -> 35; price 50×(1−0.9) = 5 -> 40
    B: 80,000,000, share 0 -> carbon 0; tech 28 -> 28; price 50×(1−0.8) = 10 -> 38 -> A wins.
    """
    flow = TenderFlow(api)
    flow.create(
        method="jp_addition",
        ceiling_price="100000000",
        method_params={"price_allotment_points": "50"},
        criteria=_criteria(("tech", "40", False), ("carbon", "10", True)),
    )
    flow.action("open")
    flow.bid("A", "90000000", "1")
    flow.bid("B", "80000000", "0")
    flow.action("close")
    flow.score(0, {"A": {"tech": 30}, "B": {"tech": 28}})
    result = flow.by_label(flow.evaluate()["result"])
    assert Decimal(result["A"]["method_value"]) == Decimal(40)
    assert Decimal(result["B"]["method_value"]) == Decimal(38)
    assert result["A"]["position"] == 1


def test_meat_weighted(api):
    """MEAT: price weight 0.4, quality weight 0.4 (max 100), carbon weight 0.2 (max 100).

    A: 1,000,000, share 1 -> S 50; quality 80 -> 0.4×0.8×100 = 32, carbon 0.2×0.5×100 = 10,
       price 0.4 × 900,000 / 1,000,000 × 100 = 36 -> 78
    B:   900,000, share 0; quality 75 -> 30, carbon 0, price 0.4 × 100 = 40 -> 70 -> A wins.
    """
    flow = TenderFlow(api)
    flow.create(
        method="meat_weighted",
        method_params={"price_weight": "0.4"},
        criteria=[
            {"code": "quality", "max_points": "100", "weight": "0.4"},
            {"code": "carbon", "max_points": "100", "weight": "0.2", "is_carbon": True},
        ],
    )
    flow.action("open")
    flow.bid("A", "1000000", "1")
    flow.bid("B", "900000", "0")
    flow.action("close")
    flow.score(0, {"A": {"quality": 80}, "B": {"quality": 75}})
    result = flow.by_label(flow.evaluate()["result"])
    assert Decimal(result["A"]["method_value"]) == Decimal(78)
    assert Decimal(result["B"]["method_value"]) == Decimal(70)


def test_pages_of_another_agency_are_404(api, client, login):
    flow = _simple_total(api)
    login(user_of("agency"))
    assert client.get(f"/tenders/{flow.tid}").status_code == 404
    assert client.post(f"/tenders/{flow.tid}/do/open").status_code == 404
    assert client.get(f"/tenders/{flow.tid}/report").status_code == 404
    login(flow.members[0])
    assert client.get(f"/tenders/{flow.tid}").status_code == 200
    assert client.get(f"/tenders/{flow.tid}/sheet").status_code == 200
