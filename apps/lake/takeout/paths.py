"""Path matching shared by the product parsers.

Takeout localises folder and file names ("Standortverlauf", "Historial de
ubicaciones"...), so parsers match on lower-cased names from small sets.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath


def lower_parts(path: PurePosixPath) -> tuple[str, ...]:
    return tuple(part.casefold() for part in path.parts)


def has_folder(path: PurePosixPath, names: frozenset[str] | set[str]) -> bool:
    """True when any folder above the file is one of ``names`` (casefolded)."""
    return any(part in names for part in lower_parts(path)[:-1])


def name_matches(path: PurePosixPath, pattern: re.Pattern[str]) -> bool:
    return pattern.fullmatch(path.name.casefold()) is not None


def head_text(head: bytes) -> str:
    """The first bytes of a file as text, BOM and leading blanks removed."""
    return head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")


def folder_name(part: str) -> str:
    """A folder or file name casefolded and NFC, no-break spaces made plain."""
    return unicodedata.normalize("NFC", part).replace("\xa0", " ").casefold().strip()


def product_folder_index(path: PurePosixPath, names: frozenset[str] | set[str]) -> int | None:
    """Where the product's own top folder is in ``path``: the first folder, or the
    one right under "Takeout". None when there is none: "My Activity/Keep/" is
    Keep's activity log and "Google Photos/Fit/" an album, not those products."""
    folders = [folder_name(part) for part in path.parts[:-1]]
    for index, folder in enumerate(folders):
        if folder in names and (index == 0 or folders[index - 1] == "takeout"):
            return index
    return None


def directly_in_product_folder(path: PurePosixPath, names: frozenset[str] | set[str]) -> bool:
    """True when the file sits right inside the product's own top folder."""
    return product_folder_index(path, names) == len(path.parts) - 2
