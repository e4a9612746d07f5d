from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.lake.models import (
    Event,
    Import,
    ImportEntry,
    LocationPoint,
    Place,
    Quarantine,
    Upload,
    Visit,
)


class PointAsTextAdmin(admin.ModelAdmin):
    """Points as EWKT text ("SRID=4326;POINT (lon lat)"), editable.

    GeoDjango's map widget loads OpenLayers from a CDN, which a self-hosted box
    without internet cannot reach; the field would render empty.
    """

    formfield_overrides = {
        gis_models.PointField: {"widget": forms.TextInput(attrs={"size": 60})},
    }


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "status",
        "created_at",
        "members_done",
        "members_total",
        "records_written",
        "records_duplicate",
        "records_quarantined",
    )
    list_filter = ("status",)
    # An import of a large archive has 100,000 members and more: the page shows
    # them summed up by product and status (one aggregate query), each row
    # linking to the paginated entry list filtered to it, never as inline rows.
    readonly_fields = [*(field.name for field in Import._meta.fields), "entries_by_product"]

    @admin.display(description="entries by product")
    def entries_by_product(self, run: Import) -> str:
        from apps.lake.selectors import import_summary_by_product

        changelist = reverse("admin:lake_importentry_changelist")

        def link(filters: dict) -> str:
            return f"{changelist}?{urlencode({'import_run__id__exact': run.pk, **filters})}"

        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    link({"product": row["product"], "status": row["status"]}),
                    row["product"] or "(not understood, skipped)",
                    row["status"],
                    row["members"],
                    row["written"],
                    row["duplicate"],
                    row["quarantined"],
                )
                for row in import_summary_by_product(run)
            ),
        )
        return format_html(
            "<table><thead><tr><th>product</th><th>status</th><th>members</th><th>written</th>"
            "<th>duplicate</th><th>quarantined</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">all entries of this import</a></p>',
            rows,
            link({}),
        )


@admin.register(ImportEntry)
class ImportEntryAdmin(admin.ModelAdmin):
    list_display = (
        "path",
        "product",
        "status",
        "records_written",
        "records_duplicate",
        "records_quarantined",
    )
    list_filter = ("status", "product")
    search_fields = ("path",)
    readonly_fields = [field.name for field in ImportEntry._meta.fields]
    list_per_page = 100
    raw_id_fields = ("import_run", "user")


@admin.register(Quarantine)
class QuarantineAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "source", "reason")
    list_filter = ("source",)
    search_fields = ("reason", "excerpt")
    readonly_fields = ("user", "entry", "source", "reason", "excerpt", "created_at")


@admin.register(Event)
class EventAdmin(PointAsTextAdmin):
    list_display = ("occurred_at", "kind", "title", "user", "source")
    list_filter = ("source", "kind")
    search_fields = ("title", "url")
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # counting a hypertable for every page is slow
    readonly_fields = ("content_hash", "entry")


@admin.register(LocationPoint)
class LocationPointAdmin(PointAsTextAdmin):
    list_display = ("recorded_at", "user", "point", "accuracy_m", "source")
    list_filter = ("source",)
    date_hierarchy = "recorded_at"
    show_full_result_count = False
    readonly_fields = ("entry",)


@admin.register(Place)
class PlaceAdmin(PointAsTextAdmin):
    list_display = ("name", "address", "place_id", "semantic_type", "user")
    search_fields = ("name", "address", "place_id")


@admin.register(Visit)
class VisitAdmin(PointAsTextAdmin):
    list_display = ("started_at", "ended_at", "place", "confidence", "user")
    date_hierarchy = "started_at"
    readonly_fields = ("content_hash", "entry")


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "user", "size", "received", "status", "created_at")
    readonly_fields = ("sha256", "received", "import_run")
