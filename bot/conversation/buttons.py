"""Button data: short ASCII strings (Telegram allows 64 bytes). Buttons that act on a case
carry the case id and the version the message showed, signed with an HMAC, so a forged
button is refused before anything is shown and an old one is told apart from a new one.

    c:{action}:{case}:{version}:{sig}       a step on a case (office, dispatcher, urge)
    t:{case}:{version}:{department}:{sig}   transfer to this office
    d:{case}:{version}:{department}:{sig}   dispatch to this office
    x:{case}:{until}:{sig}:{1|0}            approve / deny the extension requested until
    v:{case}:{version}:{sig}:{1|0}          verify: fixed / not fixed
    k:{code}                                a category of the report draft
    r:{action}:{draft}:{case}               a step of the report draft (the draft id is a nonce)

The signature covers what the server vouches for (the case and version it showed, the office
it offered); the choice between the buttons of one message (accept or return, fixed or not)
stays the presser's, and each choice is checked against the presser's role and office."""

import base64
import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_CHARS = 12  # 72 bits


class BadButton(ValueError):
    """Data that is not one of our buttons (garbage, or a part missing)."""


@dataclass(frozen=True)
class ButtonSigner:
    secret: bytes

    def sign(self, message: str) -> str:
        digest = hmac.new(self.secret, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]

    def valid(self, message: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message), signature)


@dataclass(frozen=True)
class CaseButton:
    """A parsed case button: what it asks for and whether the server signed it."""

    kind: str  # c, t, d, x, v
    case_id: int
    stamp: int  # the case version (the requested deadline for x)
    action: str = ""  # c: the step
    department_id: int = 0  # t, d
    choice: bool = False  # x: approve, v: fixed
    signed: bool = False


def _int(text: str) -> int:
    if not text.isdigit():
        raise BadButton(text)
    return int(text)


def case_step(signer: ButtonSigner, action: str, case_id: int, version: int) -> str:
    return f"c:{action}:{case_id}:{version}:{signer.sign(f'c:{case_id}:{version}')}"


def to_office(signer: ButtonSigner, kind: str, case_id: int, version: int, dept: int) -> str:
    body = f"{kind}:{case_id}:{version}:{dept}"
    return f"{body}:{signer.sign(body)}"


def extension(signer: ButtonSigner, case_id: int, until: int, approve: bool) -> str:
    body = f"x:{case_id}:{until}"
    return f"{body}:{signer.sign(body)}:{int(approve)}"


def verify(signer: ButtonSigner, case_id: int, version: int, fixed: bool) -> str:
    body = f"v:{case_id}:{version}"
    return f"{body}:{signer.sign(body)}:{int(fixed)}"


def parse_case_button(signer: ButtonSigner, data: str) -> CaseButton:
    """The button's content; `signed` False when the signature is missing or wrong."""
    parts = data.split(":")
    kind = parts[0]
    if kind == "c" and len(parts) in (4, 5):
        _k, action, case, version, *sig = parts
        signed = bool(sig) and signer.valid(f"c:{case}:{version}", sig[0])
        return CaseButton("c", _int(case), _int(version), action=action, signed=signed)
    if kind in ("t", "d") and len(parts) in (4, 5):
        _k, case, version, dept, *sig = parts
        signed = bool(sig) and signer.valid(f"{kind}:{case}:{version}:{dept}", sig[0])
        return CaseButton(kind, _int(case), _int(version), department_id=_int(dept), signed=signed)
    if kind in ("x", "v") and len(parts) == 5:
        _k, case, stamp, sig, choice = parts
        if choice not in ("0", "1"):
            raise BadButton(data)
        signed = signer.valid(f"{kind}:{case}:{stamp}", sig)
        return CaseButton(kind, _int(case), _int(stamp), choice=choice == "1", signed=signed)
    raise BadButton(data)


def category(code: str) -> str:
    return f"k:{code}"


def draft_step(action: str, draft: str, case_id: int = 0) -> str:
    return f"r:{action}:{draft}:{case_id}"
