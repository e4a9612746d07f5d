"""The columns of Fit's CSVs ("Daily activity metrics.csv" and the per-day files), in
the languages Takeout writes them in, and the metric each one is stored under.

Takeout writes the headers in the account's language. Only names seen in real
exports are listed, each language with where it was seen (public code that reads
such exports: the file ids are those of the stored code corpus Datapunk's
developers searched, 2026-12-04). No name is translated by us: a language, or a
column, without such a source is not here.

- English: Datapunk's own tests and many readers of the export (e.g. the column
  lists in corpus files 53763946303 and 46140720536; the oxygen saturation columns
  of the per-day files in 53131817601 and 53206965362).
- German ("Google Fit/Tägliche Aktivitätswerte"): the full per-day header
  ("Beginn", "Ende", "Anzahl der Aktivitätsminuten", ... "Minimales Gewicht (kg)")
  in corpus file 57355507879, the same names read by 57442053357; "Datum" and
  "Schrittzahl" in 40991133394.
- Spanish: the daily header ("Fecha,Calorías (kcal),Distancia (m),Frecuencia
  cardiaca media (ppm),...,Recuento de Minutos Activos,Andar duración (ms),Dormir
  duración (ms)") in corpus file 6383422275; "Minutos de cardio", "Puntos Cardio",
  "Peso medio (kg)" in 47175172567 (Google writes "cardiaca" and "cardíaca" in the
  same header: both are kept as seen).
- French: "Points cardio", "Minutes cardio", "Nombre de pas", "Distance (m)" in
  corpus file 1097418606; "Vitesse moyenne (m/s)", "Vitesse maximale (m/s)",
  "Basse latitude (°)", "Basse longitude (°)" in 317072017. No source gave the
  French move minutes, calories, heart rate or weight columns: they are not mapped.

Not mapped for want of a source: every other language (Italian, Portuguese, Dutch,
Japanese, Russian, Korean...). Their columns, and any other header not listed, are
not dropped: the numbers are stored under the header as the metric name ("(unit)" as
unit) and the file gets one quarantine note naming those columns, so a person sees
which columns Datapunk did not recognise.
"""

from __future__ import annotations

import re

# Casefolded header -> (metric, unit). Columns without a Datapunk metric of their own
# (the day's bounding box) keep the English export's names, in every language.
CSV_METRICS: dict[str, tuple[str, str]] = {
    # English
    "move minutes count": ("active_minutes", "min"),
    "calories (kcal)": ("calories", "kcal"),
    "distance (m)": ("distance", "m"),
    "heart points": ("heart_points", "count"),
    "heart minutes": ("heart_minutes", "min"),
    "average heart rate (bpm)": ("heart_rate", "bpm"),
    "max heart rate (bpm)": ("heart_rate_max", "bpm"),
    "min heart rate (bpm)": ("heart_rate_min", "bpm"),
    "average speed (m/s)": ("speed", "m/s"),
    "max speed (m/s)": ("speed_max", "m/s"),
    "min speed (m/s)": ("speed_min", "m/s"),
    "step count": ("steps", "count"),
    "average weight (kg)": ("weight", "kg"),
    "max weight (kg)": ("weight_max", "kg"),
    "min weight (kg)": ("weight_min", "kg"),
    "low latitude (deg)": ("low latitude", "deg"),
    "low longitude (deg)": ("low longitude", "deg"),
    "high latitude (deg)": ("high latitude", "deg"),
    "high longitude (deg)": ("high longitude", "deg"),
    "average oxygen saturation (%)": ("oxygen_saturation", "%"),
    "max oxygen saturation (%)": ("oxygen_saturation_max", "%"),
    "min oxygen saturation (%)": ("oxygen_saturation_min", "%"),
    # German
    "anzahl der aktivitätsminuten": ("active_minutes", "min"),
    "kalorien (kcal)": ("calories", "kcal"),
    "distanz (m)": ("distance", "m"),
    "kardiopunkte": ("heart_points", "count"),
    "kardiominuten": ("heart_minutes", "min"),
    "durchschnittliche herzfrequenz (bpm)": ("heart_rate", "bpm"),
    "maximale herzfrequenz (bpm)": ("heart_rate_max", "bpm"),
    "minimale herzfrequenz (bpm)": ("heart_rate_min", "bpm"),
    "durchschnittsgeschwindigkeit (m/s)": ("speed", "m/s"),
    "maximale geschwindigkeit (m/s)": ("speed_max", "m/s"),
    "minimale geschwindigkeit (m/s)": ("speed_min", "m/s"),
    "schrittzahl": ("steps", "count"),
    "durchschnittsgewicht (kg)": ("weight", "kg"),
    "maximales gewicht (kg)": ("weight_max", "kg"),
    "minimales gewicht (kg)": ("weight_min", "kg"),
    "minimaler breitengrad (grad)": ("low latitude", "deg"),
    "minimaler längengrad (grad)": ("low longitude", "deg"),
    "maximaler breitengrad (grad)": ("high latitude", "deg"),
    "maximaler längengrad (grad)": ("high longitude", "deg"),
    "durchschnittliche sauerstoffsättigung (%)": ("oxygen_saturation", "%"),
    "max. sauerstoffsättigung (%)": ("oxygen_saturation_max", "%"),
    "min. sauerstoffsättigung (%)": ("oxygen_saturation_min", "%"),
    # Spanish ("ppm": pulsaciones por minuto)
    "calorías (kcal)": ("calories", "kcal"),
    "distancia (m)": ("distance", "m"),
    "frecuencia cardiaca media (ppm)": ("heart_rate", "bpm"),
    "frecuencia cardíaca media (ppm)": ("heart_rate", "bpm"),
    "frecuencia cardiaca máxima (ppm)": ("heart_rate_max", "bpm"),
    "frecuencia cardíaca máxima (ppm)": ("heart_rate_max", "bpm"),
    "frecuencia cardiaca mínima (ppm)": ("heart_rate_min", "bpm"),
    "frecuencia cardíaca mínima (ppm)": ("heart_rate_min", "bpm"),
    "velocidad media (m/s)": ("speed", "m/s"),
    "velocidad máxima (m/s)": ("speed_max", "m/s"),
    "velocidad mínima (m/s)": ("speed_min", "m/s"),
    "recuento de pasos": ("steps", "count"),
    "peso medio (kg)": ("weight", "kg"),
    "peso máximo (kg)": ("weight_max", "kg"),
    "peso mínimo (kg)": ("weight_min", "kg"),
    "recuento de minutos activos": ("active_minutes", "min"),
    "minutos de cardio": ("heart_minutes", "min"),
    "puntos cardio": ("heart_points", "count"),
    # French
    "points cardio": ("heart_points", "count"),
    "minutes cardio": ("heart_minutes", "min"),
    "nombre de pas": ("steps", "count"),
    "vitesse moyenne (m/s)": ("speed", "m/s"),
    "vitesse maximale (m/s)": ("speed_max", "m/s"),
    "basse latitude (°)": ("low latitude", "deg"),
    "basse longitude (°)": ("low longitude", "deg"),
}

# Columns of the sourced headers that have no Datapunk metric and are stored under
# their own header without a note: the German export's oxygen therapy columns (their
# English names have no source)...
KNOWN_UNMAPPED = frozenset(
    {
        "durchschnittliche durchflussmenge der sauerstoffgabe (l/min.)",
        "max. durchflussmenge der sauerstoffgabe (l/min.)",
        "min. durchflussmenge der sauerstoffgabe (l/min.)",
        "verabreichungsform für sauerstofftherapie",
        "sauerstoffsättigungssystem",
        "verfahren zur messung der sauerstoffsättigung",
    }
)
# ... and one duration column per kind of activity ("Walking duration (ms)", "Leichter
# Schlaf – Dauer (ms)", "Andar duración (ms)", 'Durée de l'activité "Vélo" (ms)').
_ACTIVITY_DURATION = re.compile(
    r"(?:.+ duration|.+ – dauer|.+ duración|durée de l'activité .+) \(ms\)"
)
# The first columns, read by position: a day, or a start and an end time of day.
DATE_HEADERS = frozenset({"date", "datum", "fecha"})
TIME_HEADERS = frozenset({"start time", "end time", "beginn", "ende", "heure de début"})
_UNIT = re.compile(r"^(.*?)\s*\(([^()]*)\)$")


def column_metric(column: str) -> tuple[str, str, bool]:
    """(metric, unit, known) of a CSV column: a listed one's metric, else its header as
    the metric and its "(unit)" as unit; ``known`` False for a header not listed here."""
    name = column.strip().casefold()
    if name in CSV_METRICS:
        return (*CSV_METRICS[name], True)
    known = name in KNOWN_UNMAPPED or _ACTIVITY_DURATION.fullmatch(name) is not None
    match = _UNIT.match(name)
    metric, unit = (match[1], match[2][:16]) if match else (name, "")
    return metric, unit, known
