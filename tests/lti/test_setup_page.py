"""The manual setup page an LMS administrator reads: every value points at this tool, escaped."""

from __future__ import annotations

from flask.testing import FlaskClient

from lti_tool.lti.config import SCOPES

ORIGIN = "https://mentor.example.org"


def test_setup_page_gives_every_value_an_lms_asks_for(client: FlaskClient) -> None:
    page = client.get("/lti/setup", base_url=ORIGIN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for value in (
        f"<code>{ORIGIN}/lti/login</code>",
        f"<code>{ORIGIN}/lti/launch</code>",
        f"<code>{ORIGIN}/lti/jwks</code>",
        f"<code>{ORIGIN}/lti/config/canvas.json</code>",
        f'<code id="dynamic-registration-url">{ORIGIN}/lti/register</code>',
        *(f"<code>{scope}</code>" for scope in SCOPES),
    ):
        assert value in html
    for moodle_field in ("Public key type</th><td>Keyset URL", "LTI version</th><td>LTI 1.3",
                         "Initiate login URL", "Redirection URI(s)", "Content Selection URL",
                         "IMS LTI Assignment and Grade Services",
                         "IMS LTI Names and Role Provisioning"):  # fmt: skip
        assert moodle_field in html
    assert "flask --app wsgi lti add-platform" in html
    for option in ("--issuer", "--client-id", "--deployment", "--key-set-url",
                   "--auth-token-url", "--auth-login-url"):  # fmt: skip
        assert option in html


def test_the_start_page_links_to_it(client: FlaskClient) -> None:
    assert 'href="/lti/setup"' in client.get("/").get_data(as_text=True)


def test_a_hostile_host_header_is_not_reflected(client: FlaskClient) -> None:
    """The page's URLs come from the request's host: markup in a Host header must not get in."""
    page = client.get("/lti/setup", headers={"Host": 'lms.example"><script>x()</script>'})
    html = page.get_data(as_text=True)
    assert "<script>x()" not in html
    assert 'lms.example"' not in html
