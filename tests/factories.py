"""factory_boy factories for the models; traits name the variants tests need."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from lti_tool.extensions import db
from lti_tool.models import (
    Course,
    Deployment,
    Enrollment,
    EnrollmentStatus,
    Person,
    PlatformRegistration,
    RegistrationStatus,
    Role,
)


class _Factory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 (the current session)
        sqlalchemy_session_persistence = "flush"


class RegistrationFactory(_Factory):
    class Meta:
        model = PlatformRegistration

    issuer = factory.Sequence(lambda n: f"https://lms{n}.example.edu")
    client_id = factory.Sequence(lambda n: f"client-{n}")
    name = factory.Sequence(lambda n: f"LMS {n}")
    auth_login_url = factory.LazyAttribute(lambda o: f"{o.issuer}/mod/lti/auth.php")
    auth_token_url = factory.LazyAttribute(lambda o: f"{o.issuer}/mod/lti/token.php")
    key_set_url = factory.LazyAttribute(lambda o: f"{o.issuer}/mod/lti/certs.php")
    status = RegistrationStatus.ACTIVE

    class Params:
        pending = factory.Trait(status=RegistrationStatus.PENDING)
        canvas = factory.Trait(
            issuer="https://canvas.instructure.com",
            auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
            auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
            key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
            product_family="canvas",
        )


class DeploymentFactory(_Factory):
    class Meta:
        model = Deployment

    registration = factory.SubFactory(RegistrationFactory)
    deployment_id = factory.Sequence(lambda n: f"deployment-{n}")
    status = RegistrationStatus.ACTIVE


class CourseFactory(_Factory):
    class Meta:
        model = Course

    deployment = factory.SubFactory(DeploymentFactory)
    context_id = factory.Sequence(lambda n: f"context-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    label = factory.Sequence(lambda n: f"C{n}")


class PersonFactory(_Factory):
    class Meta:
        model = Person

    registration = factory.SubFactory(RegistrationFactory)
    subject = factory.Sequence(lambda n: f"user-{n}")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    name = factory.LazyAttribute(lambda o: f"{o.given_name} {o.family_name}")
    email = factory.Sequence(lambda n: f"person{n}@example.edu")


class EnrollmentFactory(_Factory):
    class Meta:
        model = Enrollment

    course = factory.SubFactory(CourseFactory)
    person = factory.SubFactory(
        PersonFactory, registration=factory.SelfAttribute("..course.deployment.registration")
    )
    role = Role.LEARNER
    lti_roles = factory.LazyFunction(
        lambda: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    )

    class Params:
        instructor = factory.Trait(
            role=Role.INSTRUCTOR,
            lti_roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
        )
        inactive = factory.Trait(status=EnrollmentStatus.INACTIVE)
