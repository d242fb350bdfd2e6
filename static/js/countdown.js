/* Live countdowns (§6.1: "a countdown to the weekly reset").
 *
 * Any <time data-countdown datetime="…Z"> shows the time left until its
 * datetime, in the same words the server renders ("2 days 3 h", "5 h 12 min",
 * "12 min", "less than a minute"). The server-rendered text stays as is
 * without JavaScript; elements swapped in by HTMX polling are picked up on the
 * next tick because each tick queries the document. CSP-safe: a static file,
 * no eval, no inline handlers.
 */
(function () {
  "use strict";

  function words(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    if (days) return days + (days === 1 ? " day " : " days ") + hours + " h";
    if (hours) return hours + " h " + minutes + " min";
    if (minutes) return minutes + " min";
    return seconds > 0 ? "less than a minute" : "a moment";
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
