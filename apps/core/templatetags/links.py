"""The one filter for a URL a page did not write itself (an imported or
ingested item's link, a configured console address): ``{{ url|link_url }}``.

Every template that puts such a URL in an ``href`` goes through it, so a
stored ``javascript:`` or ``data:`` URL is shown as text, never a live link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()

SAFE_SCHEMES = ("http", "https")


@register.filter
def link_url(value: object) -> str:
    """``value`` if it is an http(s) URL with a host; '' for anything else
    (javascript:, data:, vbscript:, a scheme hidden behind control characters)."""
    url = str(value or "").strip()
    # Browsers drop tabs and newlines inside a URL ("java\tscript:"); so do we
    # before judging it, and refuse any other control character outright.
    url = url.replace("\t", "").replace("\n", "").replace("\r", "")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in SAFE_SCHEMES and parts.netloc else ""
