"""Gmail OAuth: the one-time consent (installed-app flow) and the token a cron job lives on.

Only this module and ``drafts/gmail.py`` import Google's libraries, and only when called, so that
``outreach plan`` starts fast. Tokens are stored with mode 0600 and never logged.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from outreach.errors import AuthError, UsageError
from outreach.fsutil import write_atomic
from outreach.model import GOOGLE_TOKEN_URI, GmailSettings
from outreach.paths import resolve

SCOPE_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
SCOPE_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
SCOPE_METADATA = "https://www.googleapis.com/auth/gmail.metadata"
SCOPE_CONTACTS = "https://www.googleapis.com/auth/contacts.readonly"
#: the granted scopes that satisfy a needed one
SATISFIED_BY: dict[str, frozenset[str]] = {
    SCOPE_CONTACTS: frozenset({SCOPE_CONTACTS, "https://www.googleapis.com/auth/contacts"}),
}
#: why a scope is asked for, for the line a token without it stops the night with
NEEDED_FOR = {
    SCOPE_COMPOSE: "creating drafts",
    SCOPE_READONLY: "gmail.reply_detection and mailbox.watch",
    SCOPE_CONTACTS: "the google sync source",
}

TESTING_HINT = (
    "if this happens every 7 days, your OAuth app is still in 'Testing' on Google's consent "
    "screen: publish it (or make it Internal in Google Workspace), then run 'outreach auth gmail'"
)


def scopes(settings: GmailSettings, *, watch: bool = False, contacts: bool = False) -> list[str]:
    """The narrowest scopes that work: compose; plus read-only for reply detection and for
    ``mailbox.watch`` (``watch``; only headers are read, ``format=metadata``); plus
    contacts.readonly for a google sync source (``contacts``: the People API reads the contacts
    with the same token and OAuth client).

    Not gmail.metadata, although it reads headers only: a token that holds it cannot search
    (Google refuses any ``q`` then, beside broader scopes too: issuetracker.google.com/issues/
    115621456), and finding a draft by its Message-ID (``drafts.list q=rfc822msgid:``) is what
    keeps every draft made exactly once."""
    wanted = [SCOPE_COMPOSE]
    if settings.reply_detection or watch:
        wanted.append(SCOPE_READONLY)
    return [*wanted, SCOPE_CONTACTS] if contacts else wanted


def token_path(settings: GmailSettings, root: Path) -> Path:
    return resolve(root, settings.token_file, variables=True)


def load_credentials(
    settings: GmailSettings, root: Path, *, watch: bool = False, contacts: bool = False
) -> Any:
    """The stored credentials, not refreshed yet; ``watch``: ``mailbox.watch`` is on;
    ``contacts``: for the google sync source (the grant must hold contacts.readonly). Raises
    AuthError with the fix, also when the token's grant lacks a scope that :func:`scopes` needs.

    The Gmail store refreshes them through its own transport (its timeouts, its retries, and its
    stop when the token endpoint cannot be reached at all), see ``drafts/gmail.py``.
    """
    from google.oauth2.credentials import Credentials

    path = token_path(settings, root)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthError(f"no Gmail token at {path}", "run 'outreach auth gmail' once") from None
    except (OSError, ValueError) as exc:
        raise AuthError(
            f"cannot read the Gmail token {path}: {exc}",
            "run 'outreach auth gmail' to make a new one",
        ) from None
    missing = [k for k in ("refresh_token", "client_id", "client_secret") if not info.get(k)]
    if missing:
        raise AuthError(
            f"the Gmail token {path} lacks {', '.join(missing)}",
            "run 'outreach auth gmail' to make a new one",
        )
    granted = info.get("scopes") or []
    if isinstance(granted, str):
        granted = granted.split()
    needed = scopes(settings, watch=watch, contacts=contacts)
    if SCOPE_METADATA in granted:
        raise AuthError(
            f"the Gmail token grants {SCOPE_METADATA}, with which Gmail refuses the Message-ID "
            "searches that keep each draft made once",
            "run 'outreach auth gmail' again (it asks for gmail.readonly instead)",
        )
    lacking = [s for s in needed if not SATISFIED_BY.get(s, frozenset({s})) & set(granted)]
    if granted and lacking:
        raise AuthError(
            "the Gmail token does not grant "
            + ", ".join(f"{s} (needed for {NEEDED_FOR[s]})" for s in lacking),
            "run 'outreach auth gmail' again to grant it",
        )
    # Credentials.from_authorized_user_info always resets token_uri to Google's: build it here so
    # that a Workspace proxy or an emulator can stand in.
    creds: Any = Credentials(
        token=info.get("token"),
        expiry=_expiry(info.get("expiry")),
        refresh_token=info["refresh_token"],
        token_uri=settings.token_uri or info.get("token_uri") or GOOGLE_TOKEN_URI,
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=granted or needed,
    )
    return creds


def _expiry(value: object) -> dt.datetime:
    """When the stored access token expires, as google-auth keeps it (naive UTC). A token saved
    without one, or with one that cannot be read, counts as expired, as in google-auth's own
    loader: the store refreshes it first instead of sending it to be refused."""
    if isinstance(value, str):
        try:
            return dt.datetime.strptime(value.rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            pass
    return dt.datetime(1970, 1, 1)


def refresh_failed(exc: Exception) -> AuthError:
    """A token refresh Google refused (or that failed on the way), as the one line the night
    ends with: ``invalid_grant`` names ``outreach auth gmail`` and the likely cause."""
    text = str(exc)
    if "invalid_grant" in text:
        return AuthError(
            "Gmail refused the stored token (invalid_grant: expired or revoked); "
            "run 'outreach auth gmail'",
            TESTING_HINT,
        )
    return AuthError(
        f"Gmail token refresh failed ({text.splitlines()[0][:160]})",
        "check gmail.token_uri and the network; if it persists, run 'outreach auth gmail'",
    )


def _client_file_problem(path: Path) -> str | None:
    """What is wrong with a client file, checked before Google's library trips over it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"not readable JSON: {exc}"[:200]
    client = next(
        (
            data[k]
            for k in ("installed", "web")
            if isinstance(data, dict) and isinstance(data.get(k), dict)
        ),
        None,
    )
    if client is None:
        return "no 'installed' section"
    missing = [
        k for k in ("client_id", "client_secret", "auth_uri", "token_uri") if not client.get(k)
    ]
    return f"missing {', '.join(missing)}" if missing else None


def save_credentials(creds: Any, path: Path) -> None:
    """Store the token readable by the owner only (0600), atomically."""
    write_atomic(path, creds.to_json().encode("utf-8"), mode=0o600)


def authorize(
    settings: GmailSettings,
    root: Path,
    *,
    open_browser: bool,
    port: int,
    echo: Any,
    watch: bool = False,
    contacts: bool = False,
) -> Path:
    """The installed-app flow: consent in a browser, a refresh token stored for cron; ``watch``
    (``mailbox.watch``) asks for the read-only scope too, ``contacts`` (a google sync source)
    contacts.readonly (see :func:`scopes`)."""
    secrets = resolve(root, settings.client_secrets)
    if not secrets.exists():
        raise UsageError(
            f"no OAuth client file at {secrets}",
            "create an OAuth client of type 'Desktop app' in Google Cloud (see the README), "
            "download its JSON and set gmail.client_secrets in outreach.yaml",
        )
    from google_auth_oauthlib.flow import InstalledAppFlow

    why = _client_file_problem(secrets)
    if why:
        raise UsageError(
            f"{secrets} is not an OAuth client file ({why})",
            "download the JSON of an OAuth client of type 'Desktop app' again",
        )
    wanted = scopes(settings, watch=watch, contacts=contacts)
    flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=wanted)
    message = (
        "Open this URL in a browser to allow outreach to create Gmail drafts"
        + (
            ""
            if open_browser
            else f" (on another machine, first run: ssh -L {port}:localhost:{port} THIS-HOST)"
        )
        + ":\n{url}"
    )
    from oauthlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error

    try:
        creds = flow.run_local_server(
            host="localhost",
            port=port,
            open_browser=open_browser,
            authorization_prompt_message=message,
            success_message="outreach is authorized; you can close this tab.",
            access_type="offline",
            prompt="consent",
        )
    except InsecureTransportError:
        raise UsageError(
            f"the token endpoint in {secrets} is plain http",
            "use the https token_uri Google's client file has",
        ) from None
    except OAuth2Error as exc:
        raise AuthError(
            f"Google refused the authorization ({exc.error})",
            "run 'outreach auth gmail' again and allow access",
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot listen on localhost:{port} ({exc.strerror or exc})",
            "pick another port: outreach auth gmail --port 8766",
        ) from None
    path = token_path(settings, root)
    save_credentials(creds, path)
    echo(f"Saved the Gmail token to {path} (mode 0600).")
    echo(
        "Note: if your OAuth app is in 'Testing', Google expires this token after 7 days; "
        "publish the app (or make it Internal in Workspace) so the nightly job keeps working."
    )
    return path
