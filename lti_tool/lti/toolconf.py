"""pylti1p3's tool configuration, read from our registrations, deployments and keys."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.exception import LtiException
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from lti_tool.lti.keys import current_key, private_pem, published_keys
from lti_tool.lti.models import Deployment, PlatformRegistration, RegistrationStatus, ToolKey

# Built once: constructing a statement costs more than running it (every launch runs these).
_BY_CLIENT = select(PlatformRegistration).where(
    PlatformRegistration.issuer == bindparam("iss"),
    PlatformRegistration.client_id == bindparam("client_id"),
)
_WITH_DEPLOYMENTS = _BY_CLIENT.options(joinedload(PlatformRegistration.deployments))


class ToolRegistration(Registration):
    """A pylti1p3 registration that signs with our current key, loaded only when signing."""

    def __init__(self, model: PlatformRegistration, session: Session) -> None:
        super().__init__()
        self.model = model
        self._session = session
        self._key: ToolKey | None = None

    def _current(self) -> ToolKey:
        if self._key is None:
            self._key = current_key(self._session)
        return self._key

    def get_kid(self) -> str:
        """The kid of the key the tool signs with (pylti1p3 would derive none)."""
        return self._current().kid

    def get_tool_private_key(self) -> str:
        """The private key, decrypted on demand (a launch never needs it)."""
        return private_pem(self._current())


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations keyed by (issuer, client_id): one issuer may have many clients."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._session = session

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never assume one client per issuer (Canvas has one issuer for everyone)."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always look registrations up by issuer and client id."""
        return True

    def registration_model(self, iss: str, client_id: str | None) -> PlatformRegistration | None:
        """Our registration for (issuer, client_id), whatever its status."""
        if not client_id:
            return None
        return self._session.scalar(_BY_CLIENT, {"iss": iss, "client_id": client_id})

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        """Never used: an issuer may have many clients, so the client id is always needed."""
        raise LtiException(f"{iss}: the client id is needed to find the registration")

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        """Never used: deployments are found with the client id (find_deployment_by_params)."""
        raise LtiException(f"{iss}: the client id is needed to find deployment {deployment_id}")

    # pylti1p3 declares a Registration return but tests the result for None itself.
    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> ToolRegistration | None:
        """The pylti1p3 registration for an active (issuer, client_id)."""
        model = self._registration_with_deployments(iss, client_id)
        if model is None or model.status is not RegistrationStatus.ACTIVE:
            return None
        registration = ToolRegistration(model, self._session)
        registration.set_issuer(model.issuer).set_client_id(model.client_id)
        registration.set_auth_login_url(model.auth_login_url)
        registration.set_auth_token_url(model.auth_token_url)
        registration.set_key_set_url(model.key_set_url)
        if model.auth_audience:
            registration.set_auth_audience(model.auth_audience)
        return registration

    def _registration_with_deployments(
        self, iss: str, client_id: str | None
    ) -> PlatformRegistration | None:
        """The registration and its deployments in one query (a launch needs both)."""
        if not client_id:
            return None
        return (
            self._session.scalars(_WITH_DEPLOYMENTS, {"iss": iss, "client_id": client_id})
            .unique()
            .first()
        )

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        """The deployment, if it is active."""
        model = self.registration_model(iss, client_id)
        if model is None:
            return None
        deployment = self._session.scalar(
            select(Deployment).filter_by(registration_id=model.id, deployment_id=deployment_id)
        )
        if deployment is None or deployment.status is not RegistrationStatus.ACTIVE:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)

    def release(self) -> None:
        """End the open transaction (before a network call: never hold one across it)."""
        self._session.commit()

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> Any:
        """Our public keys (the same for every platform)."""
        return {"keys": published_keys(self._session)}
