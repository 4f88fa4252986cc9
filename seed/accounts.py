"""Demo organisations and users for every role. Idempotent: found by name/e-mail, never duplicated."""

from __future__ import annotations

from sqlalchemy import select

from gxmachinery.accounts.models import Organisation, User
from gxmachinery.accounts.services import create_organisation, create_user
from gxmachinery.extensions import db

DEMO_PASSWORD = "demo-password-2026"

# name, kind, registration no.
ORGANISATIONS = [
    ("[DEMO] 公共工程低碳機具認證中心 Scheme Office", "admin", None),
    ("[DEMO] 財團法人建設機械驗證協會 Certifier", "certifier", "DEMO-C-001"),
    ("[DEMO] 大和建機 Daiwa Kenki", "maker", "DEMO-M-001"),
    ("[DEMO] 台灣重機 Formosa Heavy", "maker", "DEMO-M-002"),
    ("[DEMO] 綠動機械 GreenDrive Machinery", "maker", "DEMO-M-003"),
    ("[DEMO] 北辰營造 Polaris Construction", "contractor", "DEMO-K-001"),
    ("[DEMO] 海岸工程 Coastline Engineering", "contractor", "DEMO-K-002"),
    ("[DEMO] 山城土木 Hilltown Civil Works", "contractor", "DEMO-K-003"),
    ("[DEMO] 交通部公路局 Highway Bureau", "agency", "DEMO-A-001"),
    ("[DEMO] 水利署 Water Resources Agency", "agency", "DEMO-A-002"),
]

# e-mail, organisation index, display name, roles
USERS = [
    ("admin@demo.gx", 0, "Scheme Admin 管理者", ["admin", "committee"]),
    ("certifier@demo.gx", 1, "Chen Certifier 陳審查", ["certifier"]),
    ("maker@demo.gx", 2, "Daiwa Maker 大和", ["maker"]),
    ("maker2@demo.gx", 3, "Formosa Maker 台重", ["maker"]),
    ("maker3@demo.gx", 4, "GreenDrive Maker 綠動", ["maker"]),
    ("contractor@demo.gx", 5, "Polaris Site Office 北辰", ["contractor"]),
    ("contractor2@demo.gx", 6, "Coastline Office 海岸", ["contractor"]),
    ("contractor3@demo.gx", 7, "Hilltown Office 山城", ["contractor"]),
    ("agency@demo.gx", 8, "Highway Bureau Officer 公路局", ["agency"]),
    ("member1@demo.gx", 8, "Committee Member 1 委員一", ["committee"]),
    ("member2@demo.gx", 8, "Committee Member 2 委員二", ["committee"]),
    ("member3@demo.gx", 8, "Committee Member 3 委員三", ["committee"]),
    ("agency2@demo.gx", 9, "WRA Officer 水利署", ["agency"]),
]


def demo_organisations() -> list[Organisation]:
    return [_organisation(name) for name, _kind, _reg in ORGANISATIONS]


def _organisation(name: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    assert org is not None, name
    return org


def load_accounts() -> dict[str, int]:
    created = {"organisations": 0, "users": 0}
    for name, kind, reg in ORGANISATIONS:
        if db.session.scalar(select(Organisation).where(Organisation.name == name)) is None:
            create_organisation(name, kind, reg, is_demo=True)
            created["organisations"] += 1
    orgs = demo_organisations()
    for email, org_index, display, roles in USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            create_user(orgs[org_index], email, display, roles, DEMO_PASSWORD)
            created["users"] += 1
    return created


def demo_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user
