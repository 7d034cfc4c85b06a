"""Import contacts from the exports people already have into contacts.yaml.

Three formats: Google Contacts CSV (both header generations, :mod:`.google`), vCard 3.0/4.0
(with Apple's ``itemN.X-ABDATE`` / ``X-ABRELATEDNAMES`` / ``X-ABLabel`` and its 1604 "no year"
birthdays, :mod:`.vcard`) and LinkedIn's ``Connections.csv`` (:mod:`.linkedin`). Each row or card
becomes one :class:`~.records.Record`, then contacts.yaml data (:mod:`.mapping`) that is validated
with :class:`outreach.model.Contact`: a field that fails is left out and reported, a record
without a usable name is skipped.

Existing contacts are matched by any e-mail address, else by the same full name; they are only
touched with ``update``, and then only where they are empty (:mod:`.importer`). contacts.yaml is
edited with ruamel.yaml's round trip (:mod:`.contacts_yaml`, :mod:`.nodes`), so the user's
comments, key order and quotes stay as they were; new contacts go at the end of the
``contacts:`` list, and the file is replaced atomically.
"""

from __future__ import annotations

from outreach.importers.importer import KINDS as KINDS
from outreach.importers.importer import Action as Action
from outreach.importers.importer import ImportReport as ImportReport
from outreach.importers.importer import Kind as Kind
from outreach.importers.importer import Outcome as Outcome
from outreach.importers.importer import import_contacts as import_contacts
from outreach.importers.text import normalize_date as normalize_date
from outreach.slugs import slug as slug
