"""Paying by bank transfer: the city's account, the Kassenzeichen as the reference, and a GiroCode.

The GiroCode is the EPC QR code of the European Payments Council (EPC069-12, version 002): a banking app
scans it and fills in recipient, IBAN, amount and reference, so the payer types nothing and the
Kassenzeichen arrives intact. We build the payload ourselves (tested line by line) and let segno draw it.

The money arrives with the bank statement the treasury imports (payments.services.statements), which
matches it to the order by the Kassenzeichen in the remittance text and the amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import segno
from flask import current_app
from flask_babel import gettext as _

from payments import state
from payments.models import Payment, PaymentStatus
from portal.references import format_kassenzeichen

IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
EPC_MAX_BYTES = 331  # the standard's limit for the whole payload
EPC_MAX_NAME = 70
EPC_MAX_TEXT = 140


def compact_iban(iban: str) -> str:
    return "".join((iban or "").split()).upper()


def is_valid_iban(iban: str) -> bool:
    """The IBAN's shape and its ISO 7064 MOD 97-10 check digits (country-specific lengths are not checked)."""
    value = compact_iban(iban)
    if not IBAN_RE.match(value):
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def is_valid_bic(bic: str) -> bool:
    return bool(BIC_RE.match((bic or "").strip().upper()))


def group_iban(iban: str) -> str:
    """DE02120300000000202051 -> "DE02 1203 0000 0000 2020 51", as printed on paper and read aloud."""
    value = compact_iban(iban)
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def remittance_text(kassenzeichen: str) -> str:
    """What the payer writes as Verwendungszweck; the statement import looks for exactly this number."""
    return f"Kassenzeichen {format_kassenzeichen(kassenzeichen)}"


def epc_amount(amount_cents: int) -> str:
    """The EPC amount field: EUR, a decimal point, at most two decimals (3700 -> "EUR37.00")."""
    if not 1 <= amount_cents <= 99_999_999_999:
        raise ValueError("an EPC amount is between 0.01 and 999999999.99 EUR")
    whole, cents = divmod(amount_cents, 100)
    return f"EUR{whole}.{cents:02d}"


def epc_payload(*, name: str, iban: str, amount_cents: int, text: str, bic: str = "") -> bytes:
    """The GiroCode's content (EPC069-12 v002, SEPA credit transfer, unstructured remittance).

    Lines, separated by LF: service tag BCD, version 002, character set (1 = UTF-8, 2 = ISO 8859-1),
    identification SCT, BIC (optional in the EEA), recipient's name, IBAN, amount, purpose code (empty),
    structured reference (empty: a Kassenzeichen is no ISO 11649 reference), unstructured remittance text.
    ISO 8859-1 when everything fits in it, as many older banking apps read nothing else.
    """
    name, text, iban, bic = " ".join(name.split()), " ".join(text.split()), compact_iban(iban), (bic or "").strip()
    if not 0 < len(name) <= EPC_MAX_NAME:
        raise ValueError(f"the recipient's name must have 1 to {EPC_MAX_NAME} characters")
    if not 0 < len(text) <= EPC_MAX_TEXT:
        raise ValueError(f"the remittance text must have 1 to {EPC_MAX_TEXT} characters")
    if not is_valid_iban(iban):
        raise ValueError("not a valid IBAN")
    if bic and not is_valid_bic(bic):
        raise ValueError("not a valid BIC")
    lines = ["BCD", "002", "", "SCT", bic.upper(), name, iban, epc_amount(amount_cents), "", "", text]
    try:
        lines[2] = "2"
        data = "\n".join(lines).encode("iso-8859-1")
    except UnicodeEncodeError:
        lines[2] = "1"
        data = "\n".join(lines).encode("utf-8")
    if len(data) > EPC_MAX_BYTES:
        raise ValueError("the EPC payload is longer than 331 bytes")
    return data


def girocode_svg(payload: bytes, title: str) -> str:
    """The GiroCode as inline SVG markup (no script, so the page's CSP allows it): role="img", named by `title`.

    Error correction level M and no boosting, as the EPC standard demands; a quiet zone of four modules.
    """
    code = segno.make_qr(payload, error="m", boost_error=False)
    if not isinstance(code.version, int) or code.version > 13:  # EPC: a regular QR code up to version 13
        raise ValueError("the GiroCode would be larger than QR version 13")
    svg = str(code.svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff"))
    return svg.replace("<svg ", '<svg role="img" ', 1)


@dataclass(frozen=True)
class BankTransferDetails:
    recipient: str
    iban: str  # compact
    bic: str
    amount_cents: int
    kassenzeichen: str
    remittance: str
    payload: bytes
    svg: str

    @property
    def iban_grouped(self) -> str:
        return group_iban(self.iban)


def details_for(payment: Payment) -> BankTransferDetails | None:
    """What the payer needs to pay `payment` by transfer; None once it is paid (nothing more to transfer)."""
    if PaymentStatus(payment.status) not in state.UNPAID:
        return None
    config = current_app.config
    recipient, iban, bic = config["PAYMENTS_BANK_RECIPIENT"], config["PAYMENTS_BANK_IBAN"], config["PAYMENTS_BANK_BIC"]
    text = remittance_text(payment.kassenzeichen)
    try:
        payload = epc_payload(name=recipient, iban=iban, bic=bic, amount_cents=payment.amount_cents, text=text)
    except ValueError:
        # A wrong account in the settings (production refuses to start with one): rather no transfer offered
        # than a page that fails or a GiroCode that sends the money astray.
        current_app.logger.error("bank transfer not offered: PAYMENTS_BANK_* settings are invalid", exc_info=True)
        return None
    title = _(
        "GiroCode für die Überweisung von %(amount)s an %(recipient)s mit dem Verwendungszweck %(text)s. "
        "Die Daten stehen auch als Text neben dem Code.",
        amount=_euro(payment.amount_cents),
        recipient=recipient,
        text=text,
    )
    return BankTransferDetails(
        recipient=recipient,
        iban=compact_iban(iban),
        bic=(bic or "").strip().upper(),
        amount_cents=payment.amount_cents,
        kassenzeichen=payment.kassenzeichen,
        remittance=text,
        payload=payload,
        svg=girocode_svg(payload, title),
    )


def _euro(cents: int) -> str:
    whole, rest = divmod(int(cents), 100)
    return f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


def configuration_problems(config: dict) -> list[str]:
    """For the production check: the account payers transfer to must be a real one."""
    problems = []
    if not is_valid_iban(str(config.get("PAYMENTS_BANK_IBAN") or "")):
        problems.append("PAYMENTS_BANK_IBAN is not a valid IBAN (wrong format or check digits)")
    bic = str(config.get("PAYMENTS_BANK_BIC") or "")
    if bic and not is_valid_bic(bic):
        problems.append("PAYMENTS_BANK_BIC is not a valid BIC (8 or 11 characters)")
    name = " ".join(str(config.get("PAYMENTS_BANK_RECIPIENT") or "").split())
    if not 0 < len(name) <= EPC_MAX_NAME:
        problems.append(f"PAYMENTS_BANK_RECIPIENT must have 1 to {EPC_MAX_NAME} characters")
    return problems
