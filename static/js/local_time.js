// Times in the signed-in user's zone (apps/core/timezones.py), for page scripts that
// show what the API and the live feed send: absolute ISO 8601 times (UTC, "Z"). The
// zone is the one the server activated for this page: <body data-time-zone>, not the
// browser's own (a user may choose another zone on /settings/).
(function () {
  "use strict";
  const zone = document.body.dataset.timeZone || "UTC";
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
  } catch (e) { // a zone this browser does not know: say UTC rather than guess
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: "UTC", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
  }

  function fields(iso) {
    const moment = new Date(iso);
    if (!iso || isNaN(moment.getTime())) return null;
    const f = {};
    parts.formatToParts(moment).forEach(function (p) { f[p.type] = p.value; });
    return f;
  }
  // "2026-03-01 14:30" in the user's zone; the text as given when it is not a time.
  function format(iso) {
    const f = fields(iso);
    return f ? `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}` : String(iso == null ? "" : iso);
  }
  // "14:30" in the user's zone.
  function clock(iso) {
    const f = fields(iso);
    return f ? `${f.hour}:${f.minute}` : String(iso == null ? "" : iso);
  }
  window.datapunkTime = { zone: zone, format: format, clock: clock };
})();
