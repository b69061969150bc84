"""Personal data out of sight unless a key may see it, and records out of reach of a key limited to
other systems. Emails, phone numbers and street addresses are personal data."""

from __future__ import annotations

from typing import Any

PII_FIELDS = frozenset({"email", "phone", "address", "email_norm", "phone_e164"})
MASK = "•••"


def mask_value(field: str, value: Any) -> Any:
    if value is None or field not in PII_FIELDS:
        return value
    text = str(value)
    if "email" in field and "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}{MASK}@{domain}"
    if "phone" in field:
        digits = [c for c in text if c.isdigit()]
        return f"{MASK}{''.join(digits[-2:])}"
    return MASK


def mask(record: dict[str, Any], pii: bool) -> dict[str, Any]:
    """The record as a key sees it (nested records and lists of records too)."""
    if pii:
        return record
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out[key] = mask(value, pii)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [mask(v, pii) for v in value]
        else:
            out[key] = mask_value(key, value)
    return out


def holds_pii(record: dict[str, Any]) -> bool:
    return any(record.get(f) is not None for f in PII_FIELDS)
