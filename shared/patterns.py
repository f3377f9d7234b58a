r"""Whole-value patterns for identifiers, codes and keys.

Python's `$` also matches just before a final newline: re.match(r"^\d{2}$", "52\n")
succeeds, and "52.01\n" would be recorded as a kabupaten of its own. So every check
uses fullmatch. The patterns keep their ^...$ form, which OpenAPI (JSON Schema) needs.

Digits are [0-9], never \d: Python's \d (and int(), float(), Decimal()) take any Unicode
digit, so "٢" (Arabic-Indic) or "２" (full-width) would be read as 2.
"""
import re

from marshmallow import ValidationError, validate

WHOLE_NUMBER = re.compile(r"[0-9]+")
SIGNED_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_DIGITS = 15   # any count, page or position of the platform; int() stops at 4,300


def whole_number(text, negative=False) -> int:
    """A whole number written as text (a query string, a path segment): the ASCII digits
    0-9 only, with a leading minus only where negative=True, at most MAX_DIGITS digits.

    int() alone would read "٢" (Arabic-Indic) or "２" (full-width) as 2, " 2" and "+2" as
    2 and "2_0" as 20. Raises ValidationError saying what is accepted.
    """
    pattern = SIGNED_WHOLE_NUMBER if negative else WHOLE_NUMBER
    if not isinstance(text, str) or not pattern.fullmatch(text):
        sign = "an optional leading minus and " if negative else ""
        raise ValidationError(f"must be a whole number written with {sign}the digits 0-9 only "
                              "(no spaces, plus sign, separators or other scripts' digits)")
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValidationError(f"must be a whole number of at most {MAX_DIGITS} digits")
    return int(text)


class Pattern(validate.Regexp):
    """marshmallow's Regexp over the whole value: a trailing newline is no match."""

    default_message = "must match {regex}"

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# A region prefix: "" (national), PP, PP.KK, PP.KK.CC or a village code PP.KK.CC.DDDD. The
# text lives here so that the ledger's envelope (which must not load the region list) and
# shared.regions check actor regions and filters with the one pattern.
REGION_PREFIX_TEXT = r"^([0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?)?$"

# A kabupaten/kota code, PP.KK (shared.regions has the village code and region prefix): a
# validator to reuse, so every schema that takes one refuses the same things the same way.
KABUPATEN_CODE = Pattern(r"^[0-9]{2}\.[0-9]{2}$", error="must be a kabupaten/kota code PP.KK")
