from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.core.front import front_config


class Command(BaseCommand):
    help = "Write the nginx front's configuration (body limits per route) and print its path."

    def add_arguments(self, parser):
        parser.add_argument("--listen", default="127.0.0.1:8000", help="host:port the front serves")
        parser.add_argument(
            "--upstream",
            action="append",
            required=True,
            help="a daphne's address: unix:/path.sock or host:port (once per process)",
        )
        parser.add_argument("--run-dir", type=Path, default=Path(settings.BASE_DIR) / "var" / "run")
        parser.add_argument("--log-dir", type=Path, default=Path(settings.BASE_DIR) / "var" / "log")

    def handle(self, *args, listen, upstream, run_dir, log_dir, **options):
        text = front_config(listen=listen, upstreams=upstream, run_dir=run_dir, log_dir=log_dir)
        path = run_dir / "front.conf"
        path.write_text(text)
        self.stdout.write(str(path.resolve()))
