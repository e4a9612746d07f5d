"""The search relevance corpus: real sample files plus seeded multilingual events.

Two parts, each event with a stable key:
- ``real-NNN``: every event the project's own Takeout parsers read from the real
  sample files in ../shared/realdata (YouTube, My Activity, Chrome, Gmail, Calendar,
  Keep; SOURCES.md says what each is). They carry no topic.
- ``gen-<topic>-<language>-<n>``: events written here per topic in English, Japanese,
  Thai, German and Spanish (titles of videos, searches, notes), plus ``gen-noise-<n>``
  events of no topic. The topic of each is known by construction: that is the label.
  ``video_games`` is there on purpose: its titles share words with other topics
  ("Cooking Simulator", "Guitar Hero", "Train Sim"), as a real history does.

Labels (queries.json) never come from an engine: a topic query's relevant events are
its topic's events, in every language; a literal query's are the events whose title
or text holds every one of its words by ``literal_match`` (a plain string rule).
``scripts/bench_search.py --write-queries`` rewrites the relevant lists from these rules.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from apps.lake.takeout.records import EventRecord

SEED = 20261204
LANGUAGES = ("en", "ja", "th", "de", "es")
QUERIES_FILE = Path(__file__).with_name("queries.json")


def realdata_dir() -> Path:
    """DATAPUNK_REALDATA, else ../shared/realdata beside the project folder."""
    default = Path(__file__).resolve().parents[4].parent / "shared" / "realdata"
    return Path(os.environ.get("DATAPUNK_REALDATA") or default)


# (file under realdata, the Takeout member path its parser is chosen by)
REAL_FILES = [
    (
        "google_takeout_parser/tests/test_json_extracted/test_parse_likes_json.json",
        "Takeout/YouTube and YouTube Music/playlists/likes.json",
    ),
    (
        "google_takeout_parser/tests/test_json_extracted/test_parse_activity_json.json",
        "Takeout/My Activity/YouTube/MyActivity.json",
    ),
    (
        "google_takeout_parser/tests/test_json_extracted/test_chrome_history.json",
        "Takeout/Chrome/BrowserHistory.json",
    ),
    (
        "google_takeout_parser/tests/testdata/HtmlTakeout/My Activity/Chrome/MyActivity.html",
        "Takeout/My Activity/Chrome/MyActivity.html",
    ),
    ("history-report/historyreport/var/samples/BrowserHistory.json", "Takeout/Chrome/BrowserHistory.json"),
    (
        "google-takeout-to-sqlite/tests/zip_contents/Takeout/My Activity/Maps/My Activity.json",
        "Takeout/My Activity/Maps/My Activity.json",
    ),
    (
        "google-takeout-to-sqlite/tests/zip_contents/Takeout/My Activity/Google Play Books/My Activity.json",
        "Takeout/My Activity/Google Play Books/My Activity.json",
    ),
    (
        "google-takeout-to-sqlite/tests/zip_contents/Takeout/My Activity/Search/My Activity.json",
        "Takeout/My Activity/Search/My Activity.json",
    ),
    (
        "google-takeout-to-sqlite/tests/mbox_contents/small.gmail.mbox",
        "Takeout/Mail/All mail Including Spam and Trash.mbox",
    ),
    ("ical.js/samples/google_birthday.ics", "Takeout/Calendar/birthdays.ics"),
]  # fmt: skip
KEEP_NOTES = "obsidian-importer/tests/keep/notes"

# Per topic and language, three titles (what a video, a search or a note would say).
TOPICS: dict[str, dict[str, list[str]]] = {
    "japanese_cooking": {
        "en": ["How to make tonkotsu ramen broth at home", "Easy miso soup with tofu and wakame", "Rolling sushi with a bamboo mat for beginners"],
        "ja": ["自宅で作る本格豚骨ラーメンのスープ", "豆腐とわかめの簡単な味噌汁", "初心者のための巻き寿司の作り方"],
        "th": ["วิธีทำน้ำซุปราเมงทงคตสึที่บ้าน", "ซุปมิโซะเต้าหู้สาหร่ายวากาเมะแบบง่าย", "ม้วนซูชิด้วยเสื่อไม้ไผ่สำหรับมือใหม่"],
        "de": ["Tonkotsu-Ramen-Brühe selbst kochen", "Einfache Misosuppe mit Tofu und Wakame", "Sushi rollen mit der Bambusmatte für Anfänger"],
        "es": ["Cómo preparar caldo de ramen tonkotsu en casa", "Sopa de miso fácil con tofu y wakame", "Enrollar sushi con esterilla de bambú para principiantes"],
    },
    "woodworking": {
        "en": ["Building a walnut dining table with hand tools", "How to sharpen a chisel on a whetstone", "Dovetail joints cut by hand, step by step"],
        "ja": ["手道具でクルミ材のダイニングテーブルを作る", "砥石でノミを研ぐ方法", "手加工で蟻組みを刻む手順"],
        "th": ["สร้างโต๊ะอาหารไม้วอลนัทด้วยเครื่องมือช่าง", "วิธีลับสิ่วด้วยหินลับมีด", "เข้าไม้หางเหยี่ยวด้วยมือทีละขั้นตอน"],
        "de": ["Esstisch aus Nussbaum mit Handwerkzeug bauen", "Stemmeisen auf dem Schleifstein schärfen", "Schwalbenschwanzverbindung von Hand sägen"],
        "es": ["Construir una mesa de comedor de nogal con herramientas manuales", "Cómo afilar un formón en la piedra", "Ensambles de cola de milano hechos a mano"],
    },
    "running": {
        "en": ["Sixteen week marathon training plan", "Interval workouts to run a faster 10K", "Choosing trail shoes for long distance"],
        "ja": ["フルマラソン完走のための16週間練習メニュー", "10キロを速く走るためのインターバル練習", "長距離ランニング用トレイルシューズの選び方"],
        "th": ["ตารางซ้อมวิ่งมาราธอน 16 สัปดาห์", "การวิ่งอินเทอร์วัลเพื่อวิ่ง 10 กิโลให้เร็วขึ้น", "เลือกรองเท้าวิ่งเทรลสำหรับระยะไกล"],
        "de": ["Marathon-Trainingsplan für sechzehn Wochen", "Intervalltraining für schnellere 10 Kilometer", "Traillaufschuhe für lange Strecken auswählen"],
        "es": ["Plan de entrenamiento de maratón de dieciséis semanas", "Series para correr 10K más rápido", "Elegir zapatillas de trail para larga distancia"],
    },
    "guitar": {
        "en": ["First chords every beginner guitarist should learn", "Fingerpicking pattern for acoustic guitar", "Changing the strings on a classical guitar"],
        "ja": ["ギター初心者が最初に覚えるコード", "アコースティックギターのフィンガーピッキング", "クラシックギターの弦の張り替え方"],
        "th": ["คอร์ดแรกที่มือใหม่หัดกีตาร์ควรรู้", "รูปแบบการเกากีตาร์โปร่งด้วยนิ้ว", "วิธีเปลี่ยนสายกีตาร์คลาสสิก"],
        "de": ["Die ersten Akkorde für Gitarrenanfänger", "Zupfmuster für die Akustikgitarre", "Saiten an der Konzertgitarre wechseln"],
        "es": ["Los primeros acordes para aprender guitarra", "Patrón de punteo para guitarra acústica", "Cambiar las cuerdas de una guitarra clásica"],
    },
    "rail_travel": {
        "en": ["Night train from Vienna to Paris, sleeper cabin tour", "Interrail pass: is it worth it for three weeks", "Booking high speed rail tickets across Europe"],
        "ja": ["ウィーンからパリへの夜行列車、寝台車の様子", "ヨーロッパ鉄道パスで三週間旅行する価値", "ヨーロッパの高速鉄道の切符を予約する"],
        "th": ["รถไฟกลางคืนจากเวียนนาไปปารีส รีวิวตู้นอน", "บัตรโดยสารรถไฟยุโรปคุ้มไหมสำหรับสามสัปดาห์", "จองตั๋วรถไฟความเร็วสูงในยุโรป"],
        "de": ["Nachtzug von Wien nach Paris im Schlafwagen", "Lohnt sich der Interrail-Pass für drei Wochen", "Tickets für Hochgeschwindigkeitszüge in Europa buchen"],
        "es": ["Tren nocturno de Viena a París en coche cama", "¿Vale la pena el pase Interrail para tres semanas?", "Reservar billetes de tren de alta velocidad por Europa"],
    },
    "gardening": {
        "en": ["Growing tomatoes on a balcony in pots", "When to plant garlic in autumn", "Making compost from kitchen scraps"],
        "ja": ["ベランダのプランターでトマトを育てる", "秋にニンニクを植える時期", "生ごみから堆肥を作る方法"],
        "th": ["ปลูกมะเขือเทศในกระถางที่ระเบียง", "ควรปลูกกระเทียมช่วงไหนของฤดูใบไม้ร่วง", "ทำปุ๋ยหมักจากเศษอาหารในครัว"],
        "de": ["Tomaten im Topf auf dem Balkon ziehen", "Wann man im Herbst Knoblauch steckt", "Kompost aus Küchenabfällen machen"],
        "es": ["Cultivar tomates en macetas en el balcón", "Cuándo plantar ajos en otoño", "Hacer compost con restos de cocina"],
    },
    "taxes": {
        "en": ["Filing the annual income tax return", "Which receipts can be deducted as work expenses", "Reminder: pay the property tax instalment"],
        "ja": ["確定申告で所得税を申告する", "経費として控除できる領収書", "固定資産税の納付を忘れずに"],
        "th": ["ยื่นแบบภาษีเงินได้ประจำปี", "ใบเสร็จที่นำมาลดหย่อนภาษีได้", "เตือนความจำ จ่ายภาษีที่ดินและสิ่งปลูกสร้าง"],
        "de": ["Einkommensteuererklärung für das Jahr abgeben", "Welche Belege man als Werbungskosten absetzen kann", "Erinnerung: Grundsteuer überweisen"],
        "es": ["Presentar la declaración de la renta anual", "Qué facturas se pueden deducir como gastos", "Recordatorio: pagar el impuesto sobre bienes inmuebles"],
    },
    "dentist": {
        "en": ["Dentist appointment for a check-up and cleaning", "Why my tooth hurts when drinking cold water", "Getting a filling replaced at the dental clinic"],
        "ja": ["歯医者で定期検診と歯のクリーニング", "冷たい水を飲むと歯がしみる原因", "歯科医院で詰め物をやり直す"],
        "th": ["นัดหมอฟันตรวจสุขภาพช่องปากและขูดหินปูน", "ทำไมปวดฟันเวลาดื่มน้ำเย็น", "ไปคลินิกทันตกรรมเปลี่ยนวัสดุอุดฟัน"],
        "de": ["Zahnarzttermin zur Kontrolle und Zahnreinigung", "Warum der Zahn bei kaltem Wasser schmerzt", "Füllung in der Zahnarztpraxis erneuern lassen"],
        "es": ["Cita con el dentista para revisión y limpieza", "Por qué me duele la muela al beber agua fría", "Cambiar un empaste en la clínica dental"],
    },
    "astronomy": {
        "en": ["Seeing the rings of Saturn through a Dobsonian telescope", "Where to watch the Perseid meteor shower", "Photographing the Milky Way from a dark sky site"],
        "ja": ["ドブソニアン望遠鏡で土星の環を見る", "ペルセウス座流星群の観測場所", "暗い空で天の川を撮影する"],
        "th": ["ดูวงแหวนดาวเสาร์ผ่านกล้องโทรทรรศน์", "จุดชมฝนดาวตกเพอร์เซอิดส์", "ถ่ายภาพทางช้างเผือกในที่มืดสนิท"],
        "de": ["Die Saturnringe im Dobson-Teleskop sehen", "Wo man die Perseiden-Sternschnuppen beobachtet", "Die Milchstraße unter dunklem Himmel fotografieren"],
        "es": ["Ver los anillos de Saturno con un telescopio Dobson", "Dónde ver la lluvia de estrellas de las Perseidas", "Fotografiar la Vía Láctea desde un cielo oscuro"],
    },
    "cats": {
        "en": ["Why does my cat knock things off the table", "Best wet food for an older cat with kidney problems", "Trimming a kitten's claws without stress"],
        "ja": ["猫がテーブルの物を落とす理由", "腎臓の弱い老猫に良いウェットフード", "子猫の爪をストレスなく切る"],
        "th": ["ทำไมแมวชอบปัดของตกจากโต๊ะ", "อาหารเปียกที่ดีที่สุดสำหรับแมวแก่ที่เป็นโรคไต", "ตัดเล็บลูกแมวโดยไม่ให้เครียด"],
        "de": ["Warum wirft meine Katze Sachen vom Tisch", "Nassfutter für eine ältere Katze mit Nierenproblemen", "Einem Kätzchen stressfrei die Krallen schneiden"],
        "es": ["Por qué mi gato tira cosas de la mesa", "La mejor comida húmeda para un gato mayor con problemas renales", "Cortar las uñas a un gatito sin estrés"],
    },
    "photography": {
        "en": ["Understanding aperture, shutter speed and ISO", "Fifty millimetre lens portraits in natural light", "Editing RAW photos in Lightroom for beginners"],
        "ja": ["絞り、シャッタースピード、ISO感度の基本", "50ミリレンズで自然光のポートレート", "初心者のためのLightroomでRAW現像"],
        "th": ["ทำความเข้าใจรูรับแสง ความเร็วชัตเตอร์ และ ISO", "ถ่ายภาพบุคคลด้วยเลนส์ 50 มม. แสงธรรมชาติ", "แต่งไฟล์ RAW ใน Lightroom สำหรับมือใหม่"],
        "de": ["Blende, Belichtungszeit und ISO verstehen", "Porträts mit dem 50-mm-Objektiv im Tageslicht", "RAW-Fotos in Lightroom bearbeiten für Einsteiger"],
        "es": ["Entender apertura, velocidad de obturación e ISO", "Retratos con objetivo de 50 mm y luz natural", "Editar fotos RAW en Lightroom para principiantes"],
    },
    "football": {
        "en": ["Champions League final highlights", "Tickets for the derby on Saturday at the stadium", "Best goals of the season so far"],
        "ja": ["チャンピオンズリーグ決勝のハイライト", "土曜日のダービーマッチのスタジアムチケット", "今シーズンのベストゴール集"],
        "th": ["ไฮไลต์ฟุตบอลยูฟ่าแชมเปียนส์ลีกนัดชิงชนะเลิศ", "ตั๋วชมดาร์บี้แมตช์วันเสาร์ที่สนาม", "รวมประตูสวยที่สุดของฤดูกาลนี้"],
        "de": ["Höhepunkte vom Champions-League-Finale", "Karten für das Derby am Samstag im Stadion", "Die schönsten Tore der Saison bisher"],
        "es": ["Resumen de la final de la Champions League", "Entradas para el derbi del sábado en el estadio", "Los mejores goles de la temporada"],
    },
    # Shares words with other topics on purpose, as a real history does.
    "video_games": {
        "en": ["Cooking Simulator gameplay part 3", "Guitar Hero III full playthrough on expert", "Train Sim World review: is it fun to drive"],
        "ja": ["クッキングシミュレーター実況プレイ パート3", "ギターヒーローIIIをエキスパートで全曲プレイ", "トレインシムワールドのレビュー"],
        "th": ["เกมจำลองการทำอาหาร Cooking Simulator ตอนที่ 3", "เล่นเกม Guitar Hero III ระดับยากจนจบ", "รีวิวเกมขับรถไฟ Train Sim World"],
        "de": ["Cooking Simulator Let's Play Teil 3", "Guitar Hero III komplett auf Experte", "Train Sim World im Test: macht das Fahren Spaß"],
        "es": ["Cooking Simulator partida parte 3", "Guitar Hero III completo en experto", "Análisis de Train Sim World: ¿es divertido conducir?"],
    },
}  # fmt: skip

# Events of no topic: what a history holds around the rest.
NOISE = [
    "Weather forecast for tomorrow", "Visited online banking login", "Searched for opening hours of the post office",
    "Password reset for your account", "明日の天気予報", "郵便局の営業時間", "พยากรณ์อากาศพรุ่งนี้",
    "เวลาเปิดทำการไปรษณีย์", "Wettervorhersage für morgen", "Öffnungszeiten der Post", "Pronóstico del tiempo para mañana",
    "Horario de apertura de correos", "Your parcel has been shipped", "Ihr Paket wurde versandt", "Su paquete ha sido enviado",
    "荷物が発送されました", "พัสดุของคุณถูกจัดส่งแล้ว", "Phone bill for this month", "Handyrechnung für diesen Monat",
    "Factura del móvil de este mes",
]  # fmt: skip

KINDS = [
    ("youtube.watch", "https://www.youtube.com/watch?v={key}"),
    ("chrome.visit", "https://example.org/{key}"),
    ("keep.note", ""),
    ("activity.search", ""),
]
START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CorpusEvent:
    key: str
    record: EventRecord
    topic: str | None = None
    language: str | None = None


@dataclass
class Corpus:
    events: list[CorpusEvent] = field(default_factory=list)

    @property
    def keys(self) -> set[str]:
        return {event.key for event in self.events}

    def by_topic(self, topic: str) -> list[str]:
        return [event.key for event in self.events if event.topic == topic]


def _real_events() -> list[CorpusEvent]:
    from apps.lake.takeout.registry import parser_for

    root = realdata_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"no real sample data at {root} (set DATAPUNK_REALDATA)")
    files = list(REAL_FILES) + [
        (f"{KEEP_NOTES}/{path.name}", f"Takeout/Keep/{path.name}")
        for path in sorted((root / KEEP_NOTES).glob("*.json"))
    ]
    out: list[CorpusEvent] = []
    for relative, member in files:
        path = PurePosixPath(member)
        parser = parser_for(path, (root / relative).read_bytes()[:8192])
        if parser is None:
            raise ValueError(f"no parser reads {relative} as {member}")
        with (root / relative).open("rb") as stream:
            for record in parser.parse(stream, path):
                if isinstance(record, EventRecord) and (record.title or record.text):
                    out.append(CorpusEvent(key=f"real-{len(out):03d}", record=record))
    return out


def _generated_events() -> list[CorpusEvent]:
    rng = random.Random(SEED)
    out: list[CorpusEvent] = []

    def add(key: str, title: str, topic: str | None, language: str | None) -> None:
        kind, url = rng.choice(KINDS)
        moment = START + dt.timedelta(seconds=rng.randrange(4 * 365 * 86400))
        record = EventRecord(kind=kind, occurred_at=moment, title=title, url=url.format(key=key))
        out.append(CorpusEvent(key=key, record=record, topic=topic, language=language))

    for topic, languages in TOPICS.items():
        for language in LANGUAGES:
            for n, title in enumerate(languages[language]):
                add(f"gen-{topic}-{language}-{n}", title, topic, language)
    for n, title in enumerate(NOISE):
        add(f"gen-noise-{n:02d}", title, None, None)
    return out


def build_corpus() -> Corpus:
    """The whole corpus, the same on every call (fixed files, fixed seed)."""
    return Corpus(events=_real_events() + _generated_events())


_ASCII_WORD = re.compile(r"[0-9a-z_']+")


def literal_match(words: str, record: EventRecord) -> bool:
    """The plain string rule of literal queries: every word of ``words`` is in the title or
    text (case folded); a Latin-script word as a whole word, any other as a substring
    (Japanese and Thai write no spaces between words)."""
    haystack = f"{record.title}\n{record.text}".casefold()
    for word in words.casefold().split():
        if _ASCII_WORD.fullmatch(word):
            if not re.search(rf"(?<![0-9a-z_]){re.escape(word)}(?![0-9a-z_])", haystack):
                return False
        elif word not in haystack:
            return False
    return True


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    language: str
    query: str
    relevant: list[str]  # corpus keys
    topic: str | None = None  # a topic query: its topic's events are relevant
    literal: str | None = None  # a literal query: literal_match(literal, event)


def labels_for(spec: dict[str, Any], corpus: Corpus) -> list[str]:
    """The relevant keys of a query, from the rule it names (never from an engine)."""
    if spec.get("topic"):
        return corpus.by_topic(spec["topic"])
    return [e.key for e in corpus.events if literal_match(spec["literal"], e.record)]


def load_queries(path: Path = QUERIES_FILE) -> list[LabelledQuery]:
    return [LabelledQuery(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


def write_queries(corpus: Corpus, path: Path = QUERIES_FILE) -> int:
    """Fill every query's ``relevant`` from its rule and write the file back."""
    specs = json.loads(path.read_text(encoding="utf-8"))
    for spec in specs:
        spec["relevant"] = labels_for(spec, corpus)
    path.write_text(json.dumps(specs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(specs)
