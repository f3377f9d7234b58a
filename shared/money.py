"""Money as the programme counts it, for every service that records it: planning's
investment items today, partners' commitments and construction's tranches next.

Whole Rupiah as integers, never float (the ledger refuses floats); a computed amount is
rounded half up to a whole Rupiah, the convention of a RAB (the bill of quantities).
Funding sources and partner categories are DOMAIN.md's, one list for every service.
"""
from decimal import ROUND_HALF_UP, Decimal

from marshmallow import fields, validate

MAX_RUPIAH = 10**13          # Rp 10 trillion: far above any single item or budget line
FUNDING_SOURCES = ("apbn", "apbd_provinsi", "apbd_kabupaten_kota", "swadaya", "swasta_csr",
                   "lainnya")
PARTNER_CATEGORIES = ("pemerintah", "swasta_csr", "lsm", "donor", "perguruan_tinggi",
                      "masyarakat", "lainnya")


def Rupiah(**options):
    """A whole, non-negative amount of Rupiah (a JSON integer); validate= adds checks of
    the field's own (a payment of at least Rp 1) to the range every amount keeps."""
    checks = [validate.Range(min=0, max=MAX_RUPIAH)]
    extra = options.pop("validate", None)
    checks.extend(extra if isinstance(extra, (list, tuple)) else [extra] if extra else [])
    return fields.Integer(strict=True, validate=checks,
                          metadata={"description": "whole Rupiah"}, **options)


def whole_rupiah(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
