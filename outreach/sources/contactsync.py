"""What a contact source gives a sync (:mod:`outreach.sync`): the people that changed since the
last pull, as the importers read them (:class:`outreach.importers.records.Record`, mapped to
contacts.yaml by the importers' one mapping), the remote ids gone, and where the next pull
starts. The sources: :mod:`outreach.sources.carddav` (any CardDAV address book) and
:mod:`outreach.sources.google_people` (Google Contacts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from outreach.errors import EXIT_AUTH, EXIT_TOUCH_FAILED, OutreachError
from outreach.importers.records import Record


@dataclass(frozen=True)
class RemoteContact:
    """One person as the source has them now."""

    remote_id: str  # stable at the source: a CardDAV card's href, a Google resourceName
    etag: str | None
    record: Record


@dataclass(frozen=True)
class Pulled:
    """What one pull found."""

    changed: list[RemoteContact]  # new or changed since the state the pull started from
    deleted: list[str]  # remote ids gone since then
    state: str  # opaque: where the next pull starts (a sync token, the ETags seen)
    complete: bool = False  # ``changed`` holds every remote contact: any other known id is gone
    notes: list[str] = field(default_factory=list)  # what the source wants said (one line each)


class SourceDown(OutreachError):
    """The source could not be read (refused, no answer, a 5xx, an answer that is no address
    book): a warning for ``run --sync``, exit 1 for ``outreach sync``; contacts.yaml as it was."""

    exit_code = EXIT_TOUCH_FAILED


class SourceRefused(SourceDown):
    """The source refused the credentials (401, 403, a dead token): exit 5 for ``outreach sync``."""

    exit_code = EXIT_AUTH
