"""Who may see and do what on the plugin's pages, decided by Airflow's own auth manager.

Plugin FastAPI apps are mounted without any protection, so every route depends on one of these: reading
needs read access to the sync DAG, a review action needs edit access to it (the access Airflow asks for to
trigger or clear its runs). The user comes from Airflow's JWT (the UI's cookie, or a Bearer token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

# Airflow's API-server modules are imported when a request comes: every Airflow component loads the plugins
# folder (the scheduler, the DAG processor), and only the API server serves these pages.

SYNC_DAG_ID = "ajera_crm_sync"


@dataclass(frozen=True)
class Reviewer:
    """The signed-in user as the pages see them."""

    name: str
    can_edit: bool


class LoginRequired(Exception):
    """No valid Airflow session: a page sends the browser to Airflow's login, anything else gets 401."""


async def _user(request: Request) -> BaseUser | None:
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    try:
        return await get_user(request, None, await bearer_scheme(request))
    except HTTPException:  # no token, an expired or a forged one
        return None


def _allowed(user: BaseUser, method: Literal["GET", "PUT"]) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
    from airflow.configuration import conf

    team = None
    if conf.getboolean("core", "multi_team", fallback=False):
        from airflow.models.dag import DagModel

        team = DagModel.get_team_name(SYNC_DAG_ID)
    return get_auth_manager().is_authorized_dag(method=method, details=DagDetails(id=SYNC_DAG_ID, team_name=team),
                                                user=user)


def reader(user: BaseUser | None = Depends(_user)) -> Reviewer:
    if user is None:
        raise LoginRequired()
    if not _allowed(user, "GET"):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"reading the sync's pages needs read access to the DAG {SYNC_DAG_ID}")
    return Reviewer(user.get_name(), _allowed(user, "PUT"))


def editor(request: Request, user: BaseUser | None = Depends(_user)) -> Reviewer:
    _same_origin(request)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in to Airflow")
    if not _allowed(user, "PUT"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"review actions need edit access to the DAG {SYNC_DAG_ID}")
    return Reviewer(user.get_name(), True)


def _same_origin(request: Request) -> None:
    """A form posted from another site carries the user's cookie only if SameSite lets it; refuse it anyway.
    (Airflow frames the pages with allow-same-origin, so their own posts carry this host as their origin; an
    opaque "null" origin is a sandboxed or privacy-stripped page, never ours.)"""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source and (source == "null" or urlsplit(source).netloc != request.headers.get("host")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "review actions are accepted from the Airflow UI only")


def login_url(next_url: str) -> str:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=next_url)
