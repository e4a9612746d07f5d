"""BackupRun and ArchiveRun take the shape of apps/core/jobs.py's Job, keeping every row.

"ok" becomes "done"; a run's row existed from its start, so created_at is its
started_at; ArchiveRun's "errors" is renamed "error". New rows start "pending"
and are marked running by the service (Job.start).
"""

import django.utils.timezone
from django.db import migrations, models

OPS_TABLES = ("ops_backuprun", "ops_archiverun")


def _sql(template: str) -> list[str]:
    return [template.format(table=table) for table in OPS_TABLES]


class Migration(migrations.Migration):

    dependencies = [
        ("ops", "0001_backup_and_archive_runs"),
    ]

    operations = [
        migrations.RenameField(model_name="archiverun", old_name="errors", new_name="error"),
        migrations.AlterField(
            model_name="archiverun",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("partial", "Partial"),
                    ("failed", "Failed"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="backuprun",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunSQL(
            _sql("UPDATE {table} SET status = 'done' WHERE status = 'ok'"),
            reverse_sql=_sql(
                "UPDATE {table} SET status = CASE status WHEN 'done' THEN 'ok'"
                " WHEN 'pending' THEN 'running' ELSE status END"
            ),
        ),
        migrations.AddField(
            model_name="archiverun",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="backuprun",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="archiverun",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="backuprun",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL(
            _sql("UPDATE {table} SET created_at = started_at"),
            reverse_sql=_sql("UPDATE {table} SET started_at = created_at WHERE started_at IS NULL"),
        ),
    ]
