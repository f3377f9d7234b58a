"""Whole-value patterns for identifiers, codes and keys.

Python's `$` also matches just before a final newline: re.match(r"^\d{2}$", "52\n")
succeeds, and "52.01\n" would be recorded as a kabupaten of its own. So every check
uses fullmatch. The patterns keep their ^...$ form, which OpenAPI (JSON Schema) needs.

Digits are [0-9], never \d: Python's \d (and int(), float(), Decimal()) take any Unicode
digit, so "٢" (Arabic-Indic) or "２" (full-width) would be read as 2.
"""
import re

from marshmallow import ValidationError, validate

PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class Pattern(validate.Regexp):
    """marshmallow's Regexp over the whole value: a trailing newline is no match."""

    default_message = "must match {regex}"

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value
