// Parse one .ics file with ical.js (the parser behind Thunderbird and the Nextcloud web UI) and
// print what it read as JSON, for tests/icalcheck.py.
//
//   node tests/js/ical_dump.mjs FEED.ics
//
// Exit status: 0 with JSON on stdout; 1 when the file cannot be read or ical.js rejects it;
// 2 on a usage error. Messages go to stderr, one line, prefixed "ical_dump: ".
//
// The script only reports what ical.js makes of the file; judging it (floating times, missing
// properties) is the Python side's job. Times are read straight from the properties, not through
// ICAL.Event, so a missing DTEND stays missing instead of being computed.

import fs from 'node:fs';
import ICAL from 'ical.js';

const TEXT = ICAL.design.icalendar.value.text;

function fail(message, status = 1) {
  process.stderr.write(`ical_dump: ${message}\n`);
  process.exit(status);
}

// ical.js leaves properties it does not know (NAME from RFC 7986, X-WR-*) as raw "unknown" values,
// still escaped; decode them with ical.js's own TEXT decoder.
function text(component, name) {
  const prop = component.getFirstProperty(name);
  if (!prop) {
    return null;
  }
  const value = prop.getFirstValue();
  if (value === null || value === undefined) {
    return null;
  }
  return prop.type === 'text' ? String(value) : TEXT.fromICAL(String(value));
}

function zoneName(time) {
  const zone = time.zone;
  if (zone === ICAL.Timezone.utcTimezone || (zone && zone.tzid === 'UTC')) {
    return 'UTC';
  }
  if (!zone || zone === ICAL.Timezone.localTimezone || zone.tzid === 'floating') {
    return 'floating';
  }
  return zone.tzid;
}

function time(component, name) {
  const prop = component.getFirstProperty(name);
  if (!prop) {
    return null;
  }
  const value = prop.getFirstValue();
  if (!(value instanceof ICAL.Time)) {
    throw new Error(`${name.toUpperCase()} is not a date or date-time: ${JSON.stringify(String(value))}`);
  }
  return {
    value: value.toString(),
    is_date: value.isDate,
    utc_epoch: value.isDate ? null : value.toUnixTime(),
    tz: value.isDate ? null : zoneName(value),
    tzid_param: prop.getParameter('tzid') ?? null,
  };
}

// A duration as ical.js reads it. Properties ical.js does not type (X-PUBLISHED-TTL, or
// REFRESH-INTERVAL without VALUE=DURATION) are parsed with ICAL.Duration.fromString, which
// throws on anything that is not an RFC 5545 duration (such as "12:00:00").
function duration(component, name) {
  const prop = component.getFirstProperty(name);
  if (!prop) {
    return null;
  }
  let value = prop.getFirstValue();
  if (!(value instanceof ICAL.Duration)) {
    try {
      value = ICAL.Duration.fromString(String(value));
    } catch (error) {
      throw new Error(`${name.toUpperCase()}: ${error.message}`);
    }
  }
  return {value: value.toString(), seconds: value.toSeconds()};
}

function integer(component, name) {
  const value = component.getFirstPropertyValue(name);
  if (value === null || value === undefined) {
    return null;
  }
  if (!Number.isInteger(value)) {
    throw new Error(`${name.toUpperCase()} is not an integer: ${JSON.stringify(String(value))}`);
  }
  return value;
}

function alarm(valarm) {
  const prop = valarm.getFirstProperty('trigger');
  const out = {action: text(valarm, 'action'), trigger: null, trigger_seconds: null,
    trigger_utc_epoch: null, related: null};
  if (prop) {
    const value = prop.getFirstValue();
    out.trigger = String(value);
    out.related = prop.getParameter('related') ?? null;
    if (value instanceof ICAL.Duration) {
      out.trigger_seconds = value.toSeconds();
    } else if (value instanceof ICAL.Time) {
      out.trigger_utc_epoch = value.toUnixTime();
    } else {
      throw new Error(`TRIGGER is neither a duration nor a date-time: ${JSON.stringify(out.trigger)}`);
    }
  }
  return out;
}

function event(vevent) {
  return {
    uid: text(vevent, 'uid'),
    summary: text(vevent, 'summary'),
    description: text(vevent, 'description'),
    location: text(vevent, 'location'),
    sequence: integer(vevent, 'sequence'),
    status: text(vevent, 'status'),
    transp: text(vevent, 'transp'),
    dtstamp: time(vevent, 'dtstamp'),
    'last-modified': time(vevent, 'last-modified'),
    dtstart: time(vevent, 'dtstart'),
    dtend: time(vevent, 'dtend'),
    alarms: vevent.getAllSubcomponents('valarm').map(alarm),
  };
}

function dump(source) {
  const jcal = ICAL.parse(source);
  // ICAL.parse returns one component, or an array when the text holds zero or several.
  const roots = Array.isArray(jcal[0]) || jcal.length === 0 ? jcal : [jcal];
  if (roots.length !== 1) {
    throw new Error(`expected one VCALENDAR, found ${roots.length} top-level components`);
  }
  const vcalendar = new ICAL.Component(roots[0]);
  if (vcalendar.name !== 'vcalendar') {
    throw new Error(`expected a VCALENDAR, found ${vcalendar.name.toUpperCase()}`);
  }
  return {
    parser: 'ical.js',
    calendar: {
      name: text(vcalendar, 'name'),
      'x-wr-calname': text(vcalendar, 'x-wr-calname'),
      'x-wr-timezone': text(vcalendar, 'x-wr-timezone'),
      'refresh-interval': duration(vcalendar, 'refresh-interval'),
      'x-published-ttl': duration(vcalendar, 'x-published-ttl'),
      prodid: text(vcalendar, 'prodid'),
      version: text(vcalendar, 'version'),
      method: text(vcalendar, 'method'),
    },
    timezones: vcalendar.getAllSubcomponents('vtimezone').map((tz) => tz.getFirstPropertyValue('tzid')),
    events: vcalendar.getAllSubcomponents('vevent').map(event),
  };
}

function main(argv) {
  if (argv.length !== 1) {
    fail('usage: node ical_dump.mjs FEED.ics', 2);
  }
  const path = argv[0];
  let source;
  try {
    // fatal: bytes that are not UTF-8 (such as a line folded inside a character) are an error,
    // not silently replaced by U+FFFD.
    source = new TextDecoder('utf-8', {fatal: true}).decode(fs.readFileSync(path));
  } catch (error) {
    fail(`${path}: ${error.message}`);
  }
  let result;
  try {
    result = dump(source);
  } catch (error) {
    fail(`${path}: ${error.name === 'Error' ? '' : error.name + ': '}${error.message}`);
  }
  process.stdout.write(JSON.stringify(result, null, 1) + '\n');
}

main(process.argv.slice(2));
