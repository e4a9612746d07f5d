#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake is the user's to fix: say what, not where in Django.
        sys.stderr.write(f"Datapunk is not configured correctly: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
