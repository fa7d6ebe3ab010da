"""``flask --app wsgi lti …``: register platforms, approve them, rotate the tool's keys."""

from __future__ import annotations

from urllib.parse import urlsplit

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.lti.keys import rotate
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus, ToolKey
from lti_tool.lti.registrations import NewRegistration, RegistrationExists, add_registration

lti_cli = AppGroup("lti", help="LTI platform registrations and the tool's keys.")


def _url(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and urlsplit(value).scheme not in ("http", "https"):
        raise click.BadParameter(f"{value!r} is not an http(s) URL.", param=param)
    return value


@lti_cli.command("add-platform")
@click.option("--issuer", required=True, callback=_url, help="The platform's iss.")
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option("--name", required=True, help="A name administrators recognise.")
@click.option("--auth-login-url", required=True, callback=_url, help="OIDC auth endpoint.")
@click.option("--auth-token-url", required=True, callback=_url, help="OAuth2 token endpoint.")
@click.option("--key-set-url", required=True, callback=_url, help="The platform's JWKS URL.")
@click.option("--audience", default=None, help="Token audience, if not the token URL.")
@click.option("--deployment", "deployments", multiple=True, help="Deployment id (repeatable).")
@click.option("--auto-activate", is_flag=True, help="Accept new deployments without approval.")
def add_platform(  # noqa: PLR0917 (one argument a command-line option)
    issuer: str,
    client_id: str,
    name: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    audience: str | None,
    deployments: tuple[str, ...],
    auto_activate: bool,
) -> None:
    """Register a platform (active: an administrator is adding it)."""
    new = NewRegistration(
        issuer=issuer, client_id=client_id, name=name, auth_login_url=auth_login_url,
        auth_token_url=auth_token_url, key_set_url=key_set_url, audience=audience,
    )  # fmt: skip
    try:
        registration = add_registration(
            db.session(), new, status=RegistrationStatus.ACTIVE, deployments=deployments,
            auto_activate=auto_activate,
        )  # fmt: skip
    except RegistrationExists as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Registered {name} as #{registration.id} ({issuer}, client {client_id}).")


@lti_cli.command("list")
def list_platforms() -> None:
    """Every registration with its deployments and their status."""
    registrations = db.session.scalars(
        select(PlatformRegistration).order_by(PlatformRegistration.id)
    ).all()
    if not registrations:
        click.echo("No platform is registered yet (flask --app wsgi lti add-platform --help).")
    for registration in registrations:
        click.echo(
            f"#{registration.id} {registration.name} [{registration.status.value}] "
            f"{registration.issuer} client {registration.client_id}"
        )
        for deployment in registration.deployments:
            click.echo(f"    deployment {deployment.deployment_id} [{deployment.status.value}]")


@lti_cli.command("activate")
@click.argument("registration_id", type=int)
@click.option("--deployment", "deployment_id", help="Activate this deployment only.")
def activate(registration_id: int, deployment_id: str | None) -> None:
    """Approve a pending registration, or one of its deployments."""
    session = db.session()
    registration = session.get(PlatformRegistration, registration_id)
    if registration is None:
        raise click.ClickException(f"No registration #{registration_id} (see: lti list).")
    if deployment_id is None:
        registration.status = RegistrationStatus.ACTIVE
        what = f"{registration.name}"
    else:
        deployment = session.scalar(
            select(Deployment).filter_by(registration=registration, deployment_id=deployment_id)
        )
        if deployment is None:
            raise click.ClickException(
                f"{registration.name} has no deployment {deployment_id!r} (see: lti list)."
            )
        deployment.status = RegistrationStatus.ACTIVE
        what = f"deployment {deployment_id} of {registration.name}"
    session.commit()
    click.echo(f"Activated {what}.")


@lti_cli.command("rotate-key")
def rotate_key() -> None:
    """Sign with the already-published next key; publish a new next key."""
    current = rotate(db.session())
    upcoming = db.session.scalar(select(ToolKey).filter_by(state="next"))
    click.echo(
        f"Now signing with {current.kid}; published next key {upcoming.kid if upcoming else '-'}."
    )
