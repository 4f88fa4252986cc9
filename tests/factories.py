"""factory_boy factories for core rows; domain test packages add their own next to their tests."""

from __future__ import annotations

import factory
from werkzeug.security import generate_password_hash

from gxmachinery.accounts.models import Organisation, OrganisationKind, User
from gxmachinery.extensions import db

TEST_PASSWORD = "correct horse battery"
_PASSWORD_HASH = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000")


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the per-test session
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Org {n}")
    kind = OrganisationKind.contractor


ROLE_FOR_KIND = {
    OrganisationKind.maker: "maker",
    OrganisationKind.contractor: "contractor",
    OrganisationKind.agency: "agency",
    OrganisationKind.certifier: "certifier",
    OrganisationKind.admin: "admin",
}


class UserFactory(BaseFactory):
    class Meta:
        model = User

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    password_hash = _PASSWORD_HASH
    roles = factory.LazyAttribute(lambda o: [ROLE_FOR_KIND[o.organisation.kind]])
    active = True


def user_of(kind: str, **kwargs) -> User:  # type: ignore[no-untyped-def]
    """A user in a new organisation of ``kind`` with that kind's main role."""
    org = OrganisationFactory(kind=OrganisationKind(kind))
    return UserFactory(organisation=org, **kwargs)
