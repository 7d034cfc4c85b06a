"""The follow-up feed as a subscriber reads it: vdirsyncer's `http` storage (khal, Linux calendars).

`outreach serve` serves the feed on 127.0.0.1; vdirsyncer 0.21 (from the venv, run as a
subprocess) syncs it into a `filesystem` storage, one `.ics` file per item, as khal reads it.

vdirsyncer splits the feed into one item per UID, wraps each in the calendar's own properties,
and then names every item by the first `UID` line in it. A UID on the VCALENDAR comes first, so
it named every item and they all collapsed into one: 1 of 12 events kept. Its http storage also
replaces each event's UID by a hash of the event's content (read-only feeds that make up UIDs
per request exist), so a local file is matched to its event by content, not by UID, and an event
that changed arrives as a new file that replaces the old one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vobject  # type: ignore[import-untyped]
import yaml
from factories import campaign_data, contact_data, write_folder
from icalcheck import Event, parse_vobject
from lifecycle import serving

from outreach import commands
from outreach.serve import feed_token, feed_urls, make_server

UTC = dt.UTC
DAY = dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
VDIRSYNCER = Path(sys.executable).parent / "vdirsyncer"

# Twelve people with December birthdays: a card ten days before each (Nov 21 to Dec 2, all in
# the window); Bob's keep-in-touch note is drafted tonight, which adds a timed call with an alarm
# five business days later and the morning's "Review 1 draft".
PEOPLE = [
    contact_data(
        f"p{i:02d}-doe",
        name={"first": f"Person{i:02d}", "last": "Doe"},
        dates={"birthday": f"--12-{1 + i:02d}"},
        profile={"hobbies": ["golf"]},
    )
    for i in range(12)
]
BOB = contact_data(
    "bob-smith", name={"first": "Bob", "last": "Smith"}, tags=["kit"], last_contacted="2026-10-01"
)
CAMPAIGNS = [
    campaign_data("birthday", followups=[{"kind": "card", "before": 10}]),
    campaign_data(
        "keep-in-touch",
        {"kind": "interval", "days": 45},
        audience={"tags": ["kit"]},
        followups=[
            {"kind": "call", "anchor": "draft", "after": 5, "business_days": True,
             "time": "10:00", "alarm_minutes": 15}
        ],
    ),
]


def require_vdirsyncer() -> None:
    """Skip when vdirsyncer is not installed next to this Python; under CI (CI set) fail."""
    if VDIRSYNCER.is_file():
        return
    message = f"{VDIRSYNCER} is missing: install the test extra (pip install -e '.[test]')"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def served_feed(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A book with its feed written by `outreach run`, served as `outreach serve` serves it on
    127.0.0.1 (any free port): (the book's folder, the feed's URL)."""
    root = write_folder(tmp_path / "book", [*PEOPLE, BOB], CAMPAIGNS)
    report = commands.run(root, today=DAY, now=NOW)
    assert not report.failed
    token = feed_token(root / ".outreach")
    server = make_server(root / "calendar.ics", token, "127.0.0.1", 0)
    with serving(server) as port:
        yield root, feed_urls("127.0.0.1", port, token)[0]


def vdirsyncer_config(tmp_path: Path, url: str) -> tuple[Path, Path]:
    """A vdirsyncer config that subscribes a filesystem storage to the feed: (config, folder)."""
    local = tmp_path / "khal" / "calendars" / "outreach"
    local.mkdir(parents=True)
    config = tmp_path / "vdirsyncer.conf"
    config.write_text(
        "[general]\n"
        f'status_path = "{tmp_path / "vdirsyncer-status"}"\n'
        "\n"
        "[pair outreach]\n"
        'a = "outreach_feed"\n'
        'b = "outreach_local"\n'
        "collections = null\n"
        'conflict_resolution = "a wins"\n'
        "\n"
        "[storage outreach_feed]\n"
        'type = "http"\n'
        f'url = "{url}"\n'
        "\n"
        "[storage outreach_local]\n"
        'type = "filesystem"\n'
        f'path = "{local}"\n'
        'fileext = ".ics"\n',
        encoding="utf-8",
    )
    return config, local


def vdirsyncer(config: Path, tmp_path: Path, *args: str) -> str:
    """Run `vdirsyncer -c CONFIG ARGS` with its home, XDG folders and proxies kept to tmp_path and
    127.0.0.1; fail the test with its output unless it exits 0. Returns its output."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
        XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"),
        NO_PROXY="127.0.0.1,localhost",
    )
    result = subprocess.run(
        [str(VDIRSYNCER), "-c", str(config), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"vdirsyncer {' '.join(args)} exited {result.returncode}:\n{output}"
    assert "error" not in output.lower(), output
    return output


def local_items(folder: Path) -> dict[str, tuple[bytes, Event]]:
    """The synced folder: file name -> (its bytes, its one event as vobject reads it)."""
    items = {}
    for path in sorted(folder.iterdir()):
        assert path.suffix == ".ics", path
        data = path.read_bytes()
        feed = parse_vobject(data)
        assert len(feed.events) == 1, f"{path.name} holds {len(feed.events)} events"
        items[path.name] = (data, feed.events[0])
    return items


def without_uid(event: Event) -> Event:
    """An event as vdirsyncer's http storage keeps it: everything but the UID, which it replaces
    with a hash of the content."""
    return dataclasses.replace(event, uid="")


def assert_mirrors(local: dict[str, tuple[bytes, Event]], served: tuple[Event, ...]) -> None:
    """The folder holds one file per event of the feed and each file is one of its events, read
    the same, calendar properties included."""
    assert len(local) == len(served)
    assert Counter(without_uid(e) for _, e in local.values()) == Counter(
        without_uid(e) for e in served
    ), "the synced events differ from the feed's"
    for name, (data, _) in local.items():
        calendar = vobject.readOne(data.decode("utf-8"))
        assert calendar.prodid.value == "-//outreach//outreach follow-ups//EN", name
        assert "uid" not in calendar.contents, name


def sync(config: Path, tmp_path: Path) -> None:
    vdirsyncer(config, tmp_path, "discover")
    vdirsyncer(config, tmp_path, "sync")


def edit_contacts(root: Path, change: Any) -> None:
    path = root / "contacts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["contacts"])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_vdirsyncer_keeps_every_event_of_the_feed(
    tmp_path: Path, served_feed: tuple[Path, str]
) -> None:
    """Subscribed with vdirsyncer's http storage, the served feed of 14 events (12 all-day cards,
    a timed call with an alarm, a morning review) becomes 14 files, one per event, each read
    exactly as the feed has it (SEQUENCE, DTSTAMP, alarm, description). The feed's VCALENDAR has
    no UID of its own: with one, vdirsyncer kept a single event."""
    require_vdirsyncer()
    root, url = served_feed
    feed = parse_vobject((root / "calendar.ics").read_bytes())
    assert len(feed.events) == 14
    assert len({e.uid for e in feed.events}) == 14
    config, folder = vdirsyncer_config(tmp_path, url)
    sync(config, tmp_path)
    assert_mirrors(local_items(folder), feed.events)
    assert "uid" not in vobject.readOne((root / "calendar.ics").read_text("utf-8")).contents


def test_a_regenerated_feed_updates_the_subscriber(
    tmp_path: Path, served_feed: tuple[Path, str]
) -> None:
    """After a change the next sync mirrors the new feed: the changed event (a new hobby for
    Person03: SEQUENCE 1, new description) replaces its old copy, the event of a contact who was
    removed is removed, every other file is left exactly as it was, and the feed keeps the UIDs
    of the events that stayed. A sync with nothing changed touches nothing."""
    require_vdirsyncer()
    root, url = served_feed
    config, folder = vdirsyncer_config(tmp_path, url)
    sync(config, tmp_path)
    before_feed = {e.uid: e for e in parse_vobject((root / "calendar.ics").read_bytes()).events}
    before = local_items(folder)

    def change(contacts: list[dict[str, Any]]) -> None:
        contacts[3]["profile"]["hobbies"] = ["golf", "sailing"]
        del contacts[7]

    edit_contacts(root, change)
    later = NOW + dt.timedelta(days=1)
    report = commands.calendar(root, today=DAY, now=later)
    assert report.problems == []
    after_feed = {e.uid: e for e in parse_vobject((root / "calendar.ics").read_bytes()).events}

    # the feed: the same UIDs less the removed card; only Person03's card changed
    removed = [u for u, e in before_feed.items() if e.summary == "Write a card to Person07 Doe"]
    assert len(removed) == 1
    assert set(after_feed) == set(before_feed) - set(removed)
    changed = [u for u in after_feed if after_feed[u] != before_feed[u]]
    assert [after_feed[u].summary for u in changed] == ["Write a card to Person03 Doe"]
    (uid,) = changed
    assert after_feed[uid].sequence == before_feed[uid].sequence + 1
    assert "Hobbies: golf, sailing" in (after_feed[uid].description or "")

    sync(config, tmp_path)
    after = local_items(folder)
    assert_mirrors(after, tuple(after_feed.values()))
    gone = {without_uid(before_feed[u]) for u in [*removed, uid]}
    kept = {name: item for name, item in before.items() if without_uid(item[1]) not in gone}
    assert len(kept) == 12
    for name, (data, _) in kept.items():
        assert after[name][0] == data, f"{name} was rewritten though its event did not change"
    (new_name,) = set(after) - set(kept)
    assert after[new_name][1].sequence == 1
    assert "Hobbies: golf, sailing" in (after[new_name][1].description or "")

    # nothing changed: the next sync copies, updates and deletes nothing
    output = vdirsyncer(config, tmp_path, "sync")
    assert "Copying" not in output and "Deleting" not in output and "Updating" not in output
    assert local_items(folder) == after
