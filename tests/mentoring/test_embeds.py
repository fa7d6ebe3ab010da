"""Videos play in the panel only from the allow-list: YouTube and Vimeo pages become their
players' addresses, an allowed https host is embedded as it is, anything else is a link."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from lti_tool.mentoring import plans, rules
from lti_tool.mentoring.embeds import embed_url, parse_host
from lti_tool.settings import load_settings
from tests.mentoring.conftest import Tenant, plan

DEFAULT_HOSTS = load_settings(environ={})["MENTORING_EMBED_HOSTS"]
ID = "dQw4w9WgXcQ"
NOCOOKIE = f"https://www.youtube-nocookie.com/embed/{ID}"
VIMEO = "https://player.vimeo.com/video/76979871"
#: A site's own hosts: one exactly, one with its subdomains, one on a port of its own.
OWN_HOSTS = ["videos.example.org", ".media.example.net", "stream.example.com:8443"]


def test_the_default_allow_list_is_youtube_and_vimeo() -> None:
    assert DEFAULT_HOSTS == [
        "youtube.com", "youtube-nocookie.com", "youtu.be", "vimeo.com", "player.vimeo.com",
    ]  # fmt: skip


@pytest.mark.parametrize(("url", "player"), [
    (f"https://www.youtube.com/watch?v={ID}", NOCOOKIE),
    (f"https://youtube.com/watch?v={ID}&t=42s", NOCOOKIE),
    (f"https://m.youtube.com/watch?feature=share&v={ID}", NOCOOKIE),
    (f"https://WWW.YouTube.com/watch?v={ID}", NOCOOKIE),  # hosts compare lower-cased
    (f"https://www.youtube.com:443/watch?v={ID}", NOCOOKIE),  # the default port, written
    (f"http://www.youtube.com/watch?v={ID}", NOCOOKIE),  # the player address is https
    (f"https://youtu.be/{ID}?si=share-tracker", NOCOOKIE),
    (f"https://www.youtube.com/embed/{ID}", NOCOOKIE),
    (f"https://www.youtube-nocookie.com/embed/{ID}?start=30", NOCOOKIE),
    (f"https://youtube.com/shorts/{ID}", NOCOOKIE),
    (f"https://www.youtube.com/live/{ID}", NOCOOKIE),
    ("https://vimeo.com/76979871", VIMEO),
    ("https://vimeo.com/76979871/0a1b2c3d4e", f"{VIMEO}?h=0a1b2c3d4e"),  # unlisted
    ("https://player.vimeo.com/video/76979871", VIMEO),
    ("https://player.vimeo.com/video/76979871?h=0a1b2c3d4e", f"{VIMEO}?h=0a1b2c3d4e"),
])  # fmt: skip
def test_youtube_and_vimeo_pages_become_their_players(url: str, player: str) -> None:
    assert embed_url(url, DEFAULT_HOSTS) == player
    assert embed_url(url, DEFAULT_HOSTS, as_is=False) == player  # whatever the resource's type


@pytest.mark.parametrize("url", [
    "https://www.dailymotion.com/video/x8abcde",  # another host
    f"https://youtube.com.evil.example/watch?v={ID}",  # look-alikes
    f"https://www.youtube.com.evil.example/embed/{ID}",
    f"https://evilyoutube.com/watch?v={ID}",
    f"https://youtube.co/watch?v={ID}",
    f"https://youtube.com./watch?v={ID}",  # a trailing dot is not the host written
    f"https://www.y\u043eutube.com/watch?v={ID}",  # a Cyrillic o: IDN look-alikes
    f"https://xn--ytube-3ve.com/watch?v={ID}",  # punycode is compared as written
    f"https://youtube.com@evil.example/watch?v={ID}",  # userinfo
    f"https://user:secret@www.youtube.com/watch?v={ID}",
    f"https://evil.example\\@www.youtube.com/watch?v={ID}",  # a browser's host: evil.example
    f"https://www.youtube.com:8443/watch?v={ID}",  # a port the list does not name
    f"https://www.youtube.com:99999/watch?v={ID}",
    f"https://www.youtube.com:https/watch?v={ID}",
    "https://www.youtube.com/watch?v=short",  # bad ids
    f"https://www.youtube.com/watch?v={ID}x",
    "https://www.youtube.com/watch?v=dQw4w9WgX%3C",
    f"https://www.youtube.com/watch?v={ID}&v=aaaaaaaaaaa",
    "https://www.youtube.com/watch",
    f"https://youtu.be/{ID}/more",
    f"https://www.youtube.com/embed/../{ID}",
    f"https://www.youtube-nocookie.com/watch?v={ID}",
    "https://www.youtube.com/playlist?list=PL0123456789",  # YouTube, but not a video page
    "https://vimeo.com/channels/staffpicks/76979871",
    "https://vimeo.com/76979871abc",
    "https://player.vimeo.com/video/76979871?h=NOT-A-HASH",
    "javascript:alert(1)",  # not web addresses
    "javascript://www.youtube.com/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    f"ftp://www.youtube.com/watch?v={ID}",
    f"//www.youtube.com/watch?v={ID}",
    f"https:www.youtube.com/watch?v={ID}",
    f" https://youtu.be/{ID}",  # spaces and controls
    f"https://youtu.be/{ID}\n",
    f"https://you\ttu.be/{ID}",
    "",
])  # fmt: skip
def test_anything_else_is_not_embedded(url: str) -> None:
    assert embed_url(url, DEFAULT_HOSTS) is None
    assert embed_url(url, [*DEFAULT_HOSTS, *OWN_HOSTS]) is None


@pytest.mark.parametrize(("url", "hosts"), [
    (f"https://www.youtube.com/watch?v={ID}", []),
    (f"https://www.youtube.com/watch?v={ID}", ["vimeo.com", "youtube-nocookie.com"]),
    (f"https://youtu.be/{ID}", ["youtube.com"]),  # each page host is allowed on its own
    ("https://vimeo.com/76979871", ["player.vimeo.com"]),
    (f"https://www.youtube.com:8443/watch?v={ID}", ["youtube.com"]),
])  # fmt: skip
def test_a_provider_plays_only_from_the_hosts_allowed(url: str, hosts: list[str]) -> None:
    assert embed_url(url, hosts) is None


@pytest.mark.parametrize(("url", "hosts"), [
    (f"https://www.youtube.com/watch?v={ID}", ["www.youtube.com"]),
    (f"https://m.youtube.com/watch?v={ID}", [".youtube.com"]),
    (f"https://www.youtube.com:8443/watch?v={ID}", ["youtube.com:8443"]),
    (f"https://www.youtube.com/watch?v={ID}", ["youtube.com:443"]),  # the default, written
])  # fmt: skip
def test_a_provider_host_may_be_allowed_in_other_words(url: str, hosts: list[str]) -> None:
    assert embed_url(url, hosts) == NOCOOKIE


@pytest.mark.parametrize(("url", "embedded"), [
    ("https://videos.example.org/watch/42", True),
    ("https://VIDEOS.example.org/watch/42?t=3#chapter", True),  # returned as written
    ("https://videos.example.org:443/watch/42", True),
    ("https://media.example.net/v/1", True),  # .media.example.net: it and its subdomains
    ("https://live.eu.media.example.net/v/1", True),
    ("https://stream.example.com:8443/live", True),  # the port the entry names
    ("http://videos.example.org/watch/42", False),  # https only
    ("https://videos.example.org.evil.example/watch/42", False),
    ("https://evilvideos.example.org/watch/42", False),
    ("https://sub.videos.example.org/watch/42", False),  # no leading dot: that host only
    ("https://xmedia.example.net/v/1", False),
    ("https://videos.example.org:8443/watch/42", False),
    ("https://stream.example.com/live", False),  # not its port
    ("https://stream.example.com:9443/live", False),
    ("https://editor@videos.example.org/watch/42", False),
    ('https://videos.example.org/watch/42"onload="alert(1)', False),
    ("https://videos.example.org/watch/<42>", False),
    ("HTTPS://videos.example.org/watch/42", False),  # the panel would have no link to it
])  # fmt: skip
def test_an_allowed_https_host_is_embedded_as_it_is(url: str, embedded: bool) -> None:
    assert embed_url(url, OWN_HOSTS) == (url if embedded else None)


def test_only_a_video_or_webinar_is_embedded_as_it_is() -> None:
    assert embed_url("https://videos.example.org/paper.pdf", OWN_HOSTS, as_is=False) is None


@pytest.mark.parametrize(("entry", "parsed"), [
    ("youtube.com", ("youtube.com", None)),
    (" YouTube.com ", ("youtube.com", None)),
    (".example.org", (".example.org", None)),
    ("stream.example.com:8443", ("stream.example.com", 8443)),
    ("https://youtube.com", None),
    ("youtube.com/", None),
    ("*.example.org", None),
    (".org", None),  # every host of a top-level domain
    ("stream.example.com:0", None),
    ("stream.example.com:70000", None),
    ("user@example.org", None),
    ("exa mple.org", None),
    ("", None),
])  # fmt: skip
def test_allow_list_entries(entry: str, parsed: tuple[str, int | None] | None) -> None:
    assert parse_host(entry) == parsed


def _resource(url: str | None, **details: Any) -> dict[str, Any]:
    found = {"url": url, **details} if url is not None else details
    return {"kind": "resource", "title": "Watch", "body": "", "details": found}


def _watch_plan(tenant: Tenant, *resources: tuple[str, str, str]) -> dict[str, Any]:
    """Resources (title, url, type) all due at once."""
    return plan(topic=tenant.topic_id, steps=[
        {"key": f"r{number}", "offset_days": 0, "message": {
            **_resource(url, type=kind, label=f"Open {title}"), "title": title}}
        for number, (title, url, kind) in enumerate(resources)
    ])  # fmt: skip


def _panel(client: FlaskClient, db: SQLAlchemy, tenant: Tenant, *resources: Any) -> str:
    _sequence, found = plans.store(db.session(), tenant.registration_id,
                                   _watch_plan(tenant, *resources))  # fmt: skip
    for rule in found:
        rules.switch(db.session(), rule.id, True)
    db.session.commit()
    tenant.later(db, hours=26)
    tenant.post(client)
    assert tenant.later(db) == len(resources)
    page = client.get("/panel/", query_string={"lt": tenant.launch_token})
    assert page.status_code == 200
    return page.text


def test_an_allowed_video_plays_in_the_panel_and_another_is_only_a_link(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant
) -> None:
    text = _panel(
        client, db, tenant,
        ('Listening "in practice" <live>', f"https://www.youtube.com/watch?v={ID}&t=4", "video"),
        ("Elsewhere", f"https://youtube.com.evil.example/watch?v={ID}", "video"),
    )  # fmt: skip
    assert text.count("<iframe") == 1
    assert (
        f'<iframe src="{NOCOOKIE}" title="Listening &#34;in practice&#34; &lt;live&gt;" '
        'loading="lazy" allow="fullscreen; picture-in-picture" '
        'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups" '
        'referrerpolicy="strict-origin-when-cross-origin"></iframe>'
    ) in text
    # the page is still linked below the player (through /panel/open/, which tells the LRS
    # and goes to the stored address), and the other only linked
    assert text.count('href="/panel/open/') == 2
    assert "Open Elsewhere</a>" in text


def test_with_no_hosts_allowed_the_panel_shows_only_links(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MENTORING_EMBED_HOSTS", [])
    text = _panel(client, db, tenant, ("Watch", f"https://youtu.be/{ID}", "video"))
    assert "<iframe" not in text
    assert text.count('href="/panel/open/') == 1


def test_a_whitepaper_on_an_allowed_host_is_a_link_and_a_youtube_link_still_plays(
    client: FlaskClient, db: SQLAlchemy, tenant: Tenant, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MENTORING_EMBED_HOSTS", ["videos.example.org", "youtu.be"])
    text = _panel(
        client, db, tenant,
        ("Paper", "https://videos.example.org/paper.pdf", "whitepaper"),
        ("Talk", "https://videos.example.org/talk", "webinar"),
        ("Clip", f"https://youtu.be/{ID}", "link"),
    )  # fmt: skip
    assert text.count("<iframe") == 2
    assert '<iframe src="https://videos.example.org/talk" title="Talk"' in text
    assert f'<iframe src="{NOCOOKIE}" title="Clip"' in text


@pytest.mark.parametrize(("url", "words"), [
    (None, "Step 1: a resource needs details.url, the web address (https:// or http://)"),
    ("", "Step 1: a resource needs details.url"),
    ("javascript:alert(1)", "Step 1: a resource's details.url must be a web address starting "
                            "with https:// or http://, not 'javascript:alert(1)'."),
    ("ftp://files.example.org/a.pdf", "not 'ftp://files.example.org/a.pdf'"),
    ("/relative/page", "not '/relative/page'"),
    ("https://", "not 'https://'"),
    ("HTTPS://example.org", "not 'HTTPS://example.org'"),
    (42, "not 42"),
])  # fmt: skip
def test_a_resource_without_a_web_address_is_refused_in_words(
    db: SQLAlchemy, tenant: Tenant, url: Any, words: str
) -> None:
    bad = plan(topic=tenant.topic_id, steps=[{"key": "r", "message": _resource(url)}])
    with pytest.raises(plans.PlanError) as refused:
        plans.store(db.session(), tenant.registration_id, bad)
    assert words in str(refused.value)
