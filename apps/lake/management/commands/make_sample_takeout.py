from pathlib import Path

from django.core.management.base import BaseCommand

from apps.lake.sample_takeout import build_sample_takeout


class Command(BaseCommand):
    help = "Write a small synthetic Google Takeout zip (every product Datapunk reads) for a demo."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--points", type=int, default=2000, help="location points in Records.json"
        )

    def handle(self, *args, path: Path, points: int, **options):
        path.parent.mkdir(parents=True, exist_ok=True)
        build_sample_takeout(path, points=points)
        self.stdout.write(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
