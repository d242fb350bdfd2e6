/* Live countdowns (§6.1: "a countdown to the weekly reset").
 *
 * Any <time data-countdown datetime="…Z"> shows the time left until its
 * datetime in the page's language (<html lang>), as the server renders it with
 * Babel: the largest whole unit ("2 days", "5 hours", "12 minutes"), through
 * Intl.NumberFormat — no hand-written words. The server-rendered text stays as
 * is without JavaScript; elements swapped in by HTMX polling are picked up on
 * the next tick because each tick queries the document. CSP-safe: a static
 * file, no eval, no inline handlers.
 */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var formats = {};
  function unit(name, n) {
    if (!formats[name]) {
      formats[name] = new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "long" });
    }
    return formats[name].format(n);
  }

  function words(seconds) {
    seconds = Math.max(60, Math.floor(seconds));
    if (seconds >= 86400) return unit("day", Math.round(seconds / 86400));
    if (seconds >= 3600) return unit("hour", Math.round(seconds / 3600));
    return unit("minute", Math.round(seconds / 60));
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("datetime"));
      if (isNaN(end)) return;
      var text = words((end - now) / 1000);
      if (el.textContent !== text) el.textContent = text;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", tick);
  } else {
    tick();
  }
  window.setInterval(tick, 15000);
})();
