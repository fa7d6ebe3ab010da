"""A mentor's saved reply snippets: listed, added, deleted and inserted only by their owner.

Every function takes the owner (person and registration) and scopes its query by both, so
another mentor's snippet is ``NotFound`` whatever its id. Writes commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.console.models import MentorSnippet
from lti_tool.errors import AppError, NotFound
from lti_tool.i18n import _, format_number, lazy_gettext
from lti_tool.threads.services import MAX_BODY

#: The longest title, in characters (the column's width).
MAX_TITLE = 120
#: The most snippets one mentor keeps (the reply box lists them all).
MAX_SNIPPETS = 100


class SnippetError(AppError):
    """A snippet that cannot be saved as written (400, with the reason in words)."""

    title = lazy_gettext("The snippet was not saved")


def of_mentor(session: Session, registration_id: int, person_id: int) -> list[MentorSnippet]:
    """The mentor's own snippets, by title."""
    return list(
        session.scalars(
            select(MentorSnippet)
            .where(
                MentorSnippet.registration_id == registration_id,
                MentorSnippet.person_id == person_id,
            )
            .order_by(MentorSnippet.title, MentorSnippet.id)
        )
    )


def own(session: Session, registration_id: int, person_id: int, snippet_id: int) -> MentorSnippet:
    """The mentor's snippet with this id; ``NotFound`` for anyone else's."""
    snippet = session.scalar(
        select(MentorSnippet).where(
            MentorSnippet.id == snippet_id,
            MentorSnippet.registration_id == registration_id,
            MentorSnippet.person_id == person_id,
        )
    )
    if snippet is None:
        raise NotFound(_("You have no saved snippet with that number."))
    return snippet


def add(
    session: Session, registration_id: int, person_id: int, title: str, body: str
) -> MentorSnippet:
    """Save a snippet for the mentor, after checking it in words."""
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise SnippetError(_("Give the snippet a title, so you can find it in the list."))
    if len(title) > MAX_TITLE:
        raise SnippetError(_("Titles are limited to %(most)s characters; this one has %(has)s.",
                             most=MAX_TITLE, has=format_number(len(title))))  # fmt: skip
    if not body:
        raise SnippetError(_("Write the snippet's text: it is empty."))
    if len(body) > MAX_BODY:
        most, has = format_number(MAX_BODY), format_number(len(body))
        raise SnippetError(_("Snippets are limited to %(most)s characters; this one has %(has)s.",
                             most=most, has=has))  # fmt: skip
    if len(of_mentor(session, registration_id, person_id)) >= MAX_SNIPPETS:
        raise SnippetError(
            _("You already keep %(most)s snippets; delete one first.", most=MAX_SNIPPETS)
        )
    snippet = MentorSnippet(
        registration_id=registration_id, person_id=person_id, title=title, body=body
    )
    session.add(snippet)
    session.commit()
    return snippet


def delete(session: Session, registration_id: int, person_id: int, snippet_id: int) -> str:
    """Delete the mentor's snippet; its title (for the page to confirm)."""
    snippet = own(session, registration_id, person_id, snippet_id)
    session.delete(snippet)
    session.commit()
    return snippet.title


def inserted(draft: str, snippet: MentorSnippet) -> str:
    """The reply being written with the snippet added: after what is there, a blank line
    between (the same as static/snippets.js does in the browser)."""
    kept = (draft or "").rstrip()
    return f"{kept}\n\n{snippet.body}" if kept else snippet.body
