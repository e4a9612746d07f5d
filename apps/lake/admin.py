from django import forms
from django.contrib import admin
from django.contrib.gis.db import models as gis_models

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


class ImportEntryInline(admin.TabularInline):
    model = ImportEntry
    extra = 0
    can_delete = False
    fields = (
        "path",
        "product",
        "status",
        "records_written",
        "records_duplicate",
        "records_quarantined",
        "error",
    )
    readonly_fields = fields
    show_change_link = True


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
    readonly_fields = [field.name for field in Import._meta.fields]
    inlines = [ImportEntryInline]


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
