"""The demo's mentor: the embedded platform's instructor, Maya Okafor, known to the tool with a
mentor profile before anyone launches, so a demo learner's panel names her from their first
launch and every message is signed by her.

Her person, her courses and her enrollments are written as a launch would write them (a later
launch updates them); her profile only when she has none, so what she writes in the console
stays. Learners need no pairing: a learner without a mentorship is mentored by the course's
first mentor or instructor with a profile (``mentors.services.mentor_for``), which is her.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.courses.models import Course, Enrollment, EnrollmentStatus, Person
from lti_tool.database import upsert
from lti_tool.devplatform.directory import COURSES, DEPLOYMENT_ID, USERS, role_in
from lti_tool.lti.models import Deployment
from lti_tool.lti.roles import map_roles
from lti_tool.mentors.models import MentorProfile
from lti_tool.mentors.profiles import save_profile

#: The demo's mentor (the embedded platform's instructor) and how she presents herself.
MENTOR_SUB = "demo-mentor"
TITLE = "Customer service and safety coach"
BIO = (
    "I have trained front-line teams for twelve years. I will check in as you go through the "
    "course, share a tip or two, and answer your questions here."
)


def seed_mentor(session: Session, registration_id: int) -> Person:
    """Maya, her courses and her mentor profile on the registration (safe to run again)."""
    user = USERS[MENTOR_SUB]
    deployment_id = session.scalars(select(Deployment.id).where(
        Deployment.registration_id == registration_id,
        Deployment.deployment_id == DEPLOYMENT_ID)).one()  # fmt: skip
    person_id = upsert(session, Person, {
        "registration_id": registration_id, "subject": user.sub, "name": user.name,
        "given_name": user.given_name, "family_name": user.family_name, "email": user.email,
    }, keys=["registration_id", "subject"], returning=Person.id)  # fmt: skip
    for course in COURSES.values():
        role = role_in(course, user.sub)
        if role is None:
            continue
        course_id = upsert(session, Course, {
            "deployment_id": deployment_id, "context_id": course.context_id,
            "title": course.title, "label": course.label,
        }, keys=["deployment_id", "context_id"], returning=Course.id)  # fmt: skip
        upsert(session, Enrollment, {
            "course_id": course_id, "person_id": person_id, "role": map_roles([role]),
            "lti_roles": [role], "status": EnrollmentStatus.ACTIVE,
        }, keys=["course_id", "person_id"])  # fmt: skip
    if session.scalar(select(MentorProfile.id).where(MentorProfile.person_id == person_id)):
        session.commit()
    else:
        save_profile(session, registration_id, person_id, title=TITLE, bio=BIO,
                     display_name=user.name)  # fmt: skip
    return session.get_one(Person, person_id)
