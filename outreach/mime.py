"""A draft's MIME message, built once: the bytes the email package would write, without its cost.

A draft is always the same shape: the top-level headers, then ``multipart/alternative`` with a
fixed boundary around a ``text/plain`` and a ``text/html`` part, both UTF-8. Building it with
``set_content`` and ``add_alternative`` parses every header through ``email.headerregistry``
(about fifteen parses a draft) and the generator parses the Content-Type headers again on every
``as_bytes()``. Here each header is written as the email package folds it (the value we already
folded ourselves, see `outreach.message`), each part's body is encoded by the email package's
own chooser of a transfer encoding (`email.contentmanager`: 7bit, 8bit, quoted-printable or
base64, as ``set_content`` picks it), and the message is an ordinary `EmailMessage` built from
them: readers, `get_body()`, ``msg["Cc"]`` and a header added later (the dir store's
``X-Unsent``) work as before. `DraftMessage.as_bytes` writes the headers and the body kept
from the build, byte for byte what `email.generator.BytesGenerator` writes
(tests/test_golden_drafts.py and tests/test_mime.py compare the two).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email import contentmanager
from email.message import EmailMessage
from email.policy import Policy
from typing import Any

CRLF = "\r\n"
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what the generator takes for a line end (its NLCRE)


def encode_text(text: str, policy: Policy) -> tuple[str, str]:
    """(Content-Transfer-Encoding, payload) of a UTF-8 text part, as ``set_content`` makes
    them: the email package's own choice of encoding (`email.contentmanager`), made here for
    the parts of a draft. Lines that fit are 7bit or 8bit; a part with a longer line (an HTML
    paragraph) is quoted-printable unless base64 is shorter: written here line by line as
    `email.quoprimime.body_encode` writes it, once (the email package encodes the first ten
    lines to choose, then the whole part again, mapping each character through a list). What
    is left (base64, a 7bit policy) is the email package's (tests/test_mime_qp.py compares)."""
    width = policy.max_line_length
    lines = text.encode("utf-8").splitlines()
    if width is None or width < 4:
        return _email_package(text, policy)
    body = b"\n".join(lines) + b"\n"
    if not lines or max(map(len, lines)) <= width:
        if body.isascii():
            return "7bit", body.decode("ascii")
        if policy.cte_type == "8bit":
            return "8bit", body.decode("ascii", "surrogateescape")
        return _email_package(text, policy)
    escaped = _UNSAFE.sub(_escape, body).decode("ascii").split("\n")[:-1]  # a line each
    encoded = [
        line if len(line) <= width and line[-1:] not in (" ", "\t") else _qp_breaks(line, width)
        for line in escaped
    ]
    sniff = lines[:10]  # what the email package compares: its first ten lines, both ways
    sniff_qp = sum(map(len, encoded[:10])) + len(sniff)  # joined by "\n", one more at the end
    sniff_bytes = sum(map(len, sniff)) + len(policy.linesep) * len(sniff)
    if sniff_qp > 4 * ((sniff_bytes + 2) // 3) + 1:  # base64 (and its newline) is shorter
        return _email_package(text, policy)
    return "quoted-printable", "\n".join(encoded) + "\n"


def _email_package(text: str, policy: Policy) -> tuple[str, str]:
    cte, payload = contentmanager._encode_text(  # type: ignore[attr-defined]
        text, "utf-8", None, policy
    )
    return str(cte), str(payload)


# what quoted-printable writes as =XX (LF is where the part's lines end: no line holds CR or LF)
_UNSAFE = re.compile(rb"[^\t\n -<>-~]")
_ESCAPED = [b"=%02X" % octet for octet in range(256)]


def _escape(m: re.Match[bytes]) -> bytes:
    return _ESCAPED[m.group(0)[0]]


def _qp_breaks(line: str, width: int) -> str:
    """One escaped line that is too long or ends in a space, with its soft breaks joined by
    "\n": the loop of `email.quoprimime.body_encode` for one line."""
    out: list[str] = []
    start, width1 = 0, width - 1
    laststart = len(line) - 1 - width
    while start <= laststart:
        stop = start + width1
        if line[stop - 2] == "=":  # never break inside an =XX
            out.append(line[start : stop - 1])
            start = stop - 2
        elif line[stop - 1] == "=":
            out.append(line[start:stop])
            start = stop - 1
        else:
            out.append(line[start:stop] + "=")
            start = stop
    if line and line[-1] in " \t":  # a space at the end of a line is written as =20
        room = start - laststart
        if room >= 3:
            q = _ESCAPED[ord(line[-1])].decode("ascii")
        elif room == 2:
            q = line[-1] + "=\n"
        else:
            q = "=\n" + _ESCAPED[ord(line[-1])].decode("ascii")
        out.append(line[start:-1] + q)
    else:
        out.append(line[start:])
    return "\n".join(out)


def _payload_bytes(payload: str) -> bytes:
    """The payload as the generator writes it: every line end as CRLF, and the bytes of an
    8bit payload (carried as surrogates) as they are."""
    if "\r" not in payload:  # (the payloads made here: lines end in LF alone)
        return payload.replace("\n", CRLF).encode("ascii", "surrogateescape")
    return CRLF.join(_NEWLINE.split(payload)).encode("ascii", "surrogateescape")


class DraftMessage(EmailMessage):
    """An `EmailMessage` whose ``as_bytes()`` writes the body kept from the build, as long as
    the parts and the top-level Content-Type are those it was built with; headers are folded
    by the policy at each call, so one added later is written too."""

    _headers: list[tuple[str, Any]]  # (the email package's own attributes)
    _payload: Any
    _built: tuple[Any, ...] | None = None  # what the kept body was made from
    _written: type[str] | None = None  # the values the policy writes as "name: value"
    _body: bytes = b""

    def as_bytes(self, unixfrom: bool = False, policy: Policy | None = None) -> bytes:
        if unixfrom or (policy is not None and policy is not self.policy) or not self._intact():
            return super().as_bytes(unixfrom, policy)
        fold, written, linesep = self.policy.fold_binary, self._written, self.policy.linesep
        head = b"".join(
            # (a written value: as the policy writes it, without asking the policy for each)
            f"{name}: {value}{linesep}".encode("ascii")
            if written is not None and isinstance(value, written)
            else fold(name, value)
            for name, value in self._headers
        )
        return head + CRLF.encode("ascii") + self._body

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    def _intact(self) -> bool:
        """The parts, their headers and payloads, and the boundary are as built."""
        built = self._built
        if built is None or self.preamble is not None or self.epilogue is not None:
            return False
        content_type, parts = built
        if not any(value is content_type for _, value in self._headers):
            return False
        payload = self._payload
        if not isinstance(payload, list) or len(payload) != len(parts):
            return False
        for part, (obj, headers, body) in zip(payload, parts, strict=True):
            if part is not obj or part._payload is not body or part._headers != headers:
                return False
            if part.preamble is not None or part.epilogue is not None:
                return False
        return True


def build(
    policy: Policy,
    headers: Sequence[tuple[str, Any]],
    boundary: str,
    parts: Sequence[tuple[str, str]],
    written: type[str],
) -> DraftMessage:
    """The message: ``headers`` (name, value as the policy stores it) then MIME-Version and the
    multipart/alternative Content-Type with ``boundary``, around one UTF-8 text part per
    (subtype, text). ``written`` is the str type whose values the policy writes as they are."""
    msg = DraftMessage(policy=policy)
    content_type = written(f'multipart/alternative; boundary="{boundary}"')
    msg._headers = [
        *headers,
        ("MIME-Version", written("1.0")),
        ("Content-Type", content_type),
    ]
    nl = CRLF.encode("ascii")
    dash = f"--{boundary}".encode("ascii")
    chunks: list[bytes] = []
    kept = []
    for subtype, text in parts:
        cte, payload = encode_text(text, policy)
        part: Any = EmailMessage(policy=policy)
        part_headers = [
            ("Content-Type", written(f'text/{subtype}; charset="utf-8"')),
            ("Content-Transfer-Encoding", written(cte)),
        ]
        part._headers = list(part_headers)
        part._payload = payload
        kept.append((part, part_headers, payload))
        head = "".join(f"{name}: {value}{CRLF}" for name, value in part_headers)
        chunks.append(dash + nl + (head + CRLF).encode("ascii") + _payload_bytes(payload) + nl)
    msg._payload = [p for p, _, _ in kept]
    msg._body = b"".join(chunks) + dash + b"--" + nl
    msg._built = (content_type, tuple(kept))
    msg._written = written
    return msg
