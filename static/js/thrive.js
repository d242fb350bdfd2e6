/* Thrive's page behaviour (§7). All JavaScript lives in files: the CSP forbids
 * inline scripts. Every feature degrades gracefully — pages work without JS.
 *
 * - theme toggle (light/dark; remembered in a cookie the server reads, and in
 *   localStorage; without a choice the OS preference applies)
 * - "+N points" toasts from the `thrive:points` HX-Trigger event (aria-live region)
 * - celebration modal: <dialog data-celebration> → showModal(), focus, confetti
 *   (skipped with prefers-reduced-motion)
 * (My Journey's charts are inline SVG drawn on the server: no chart script.)
 */
(function () {
  "use strict";

  var THEME_COOKIE = "thrive_theme";
  var TOAST_MS = 6000;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  /* ---- Theme ------------------------------------------------------------ */
  function currentTheme() {
    var explicit = document.documentElement.getAttribute("data-theme");
    if (explicit === "light" || explicit === "dark") return explicit;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function setTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    document.cookie = THEME_COOKIE + "=" + theme + "; path=/; max-age=31536000; SameSite=Lax";
    try { window.localStorage.setItem(THEME_COOKIE, theme); } catch (e) { /* private mode */ }
    document.querySelectorAll("[data-theme-toggle]").forEach(function (btn) {
      btn.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    });
    document.dispatchEvent(new CustomEvent("thrive:theme", { detail: { theme: theme } }));
  }

  function initTheme() {
    if (!document.documentElement.hasAttribute("data-theme")) {
      var stored = null;
      try { stored = window.localStorage.getItem(THEME_COOKIE); } catch (e) { /* ignore */ }
      if (stored === "light" || stored === "dark") setTheme(stored);
    }
    document.querySelectorAll("[data-theme-toggle]").forEach(function (btn) {
      btn.hidden = false;
      btn.setAttribute("aria-pressed", currentTheme() === "dark" ? "true" : "false");
      btn.addEventListener("click", function () {
        setTheme(currentTheme() === "dark" ? "light" : "dark");
      });
    });
  }

  /* ---- Toasts ------------------------------------------------------------ */
  function scheduleRemoval(node) {
    window.setTimeout(function () { if (node.parentNode) node.parentNode.removeChild(node); }, TOAST_MS);
  }

  function showToast(text) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "toast";
    p.setAttribute("data-toast", "");
    p.textContent = text;
    region.appendChild(p);
    scheduleRemoval(p);
  }

  function onPoints(event) {
    var detail = event.detail || {};
    var points = parseInt(detail.points, 10);
    if (!points) return;
    var text = (points > 0 ? "+" : "") + points.toLocaleString("en") + " points";
    if (detail.label) text += " · " + detail.label;
    showToast(text);
  }

  /* ---- Celebrations -------------------------------------------------------- */
  // The canvas lives inside the <dialog>: a modal dialog is in the top layer, above everything
  // else including its ::backdrop, so confetti drawn on a body-level canvas would sit under the backdrop.
  // confetti.browser.js (25 KB) is fetched only when a celebration opens, not on every page (issue 11,
  // Lighthouse): its URL rides on this script's data-confetti attribute.
  var confettiSrc = document.currentScript ? document.currentScript.getAttribute("data-confetti") : null;
  var confettiWaiting = [];

  function withConfetti(then) {
    if (typeof window.confetti === "function") { then(); return; }
    if (!confettiSrc) return;
    confettiWaiting.push(then);
    if (confettiWaiting.length > 1) return;  // already loading
    var script = document.createElement("script");
    script.src = confettiSrc;
    script.onload = function () {
      var waiting = confettiWaiting;
      confettiWaiting = [];
      waiting.forEach(function (fn) { fn(); });
    };
    script.onerror = function () { confettiWaiting = []; };
    document.head.appendChild(script);
  }

  function fireConfetti(dialog) {
    if (reducedMotion && reducedMotion.matches) return;
    withConfetti(function () {
      if (typeof window.confetti !== "function" || !dialog.open) return;
      var canvas = document.createElement("canvas");
      canvas.className = "confetti-canvas";
      canvas.setAttribute("aria-hidden", "true");
      dialog.appendChild(canvas);
      // Our own canvas and no worker: the CSP allows no blob: workers.
      var fire = window.confetti.create(canvas, { resize: true, useWorker: false, disableForReducedMotion: true });
      fire({ particleCount: 140, spread: 75, origin: { y: 0.6 } });
      window.setTimeout(function () { fire({ particleCount: 80, spread: 110, origin: { y: 0.5 } }); }, 350);
    });
  }

  function openCelebration(dialog) {
    if (dialog.hasAttribute("data-ready")) return;
    dialog.setAttribute("data-ready", "");
    var returnFocus = document.activeElement;
    if (typeof dialog.showModal === "function") {
      if (dialog.open) dialog.removeAttribute("open"); // not close(): its async "close" event would remove the dialog
      dialog.showModal();
    }
    var closeBtn = dialog.querySelector("[data-celebration-close]");
    if (closeBtn) closeBtn.focus();
    dialog.addEventListener("close", function () {
      if (dialog.parentNode) dialog.parentNode.removeChild(dialog);
      if (returnFocus && typeof returnFocus.focus === "function" && document.contains(returnFocus)) {
        returnFocus.focus();
      } else {
        var main = document.getElementById("main");
        if (main) main.focus();
      }
    });
    // A click on the backdrop (outside the article) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    fireConfetti(dialog);
  }

  /* ---- Wiring ----------------------------------------------------------------- */
  function init(root) {
    root = root && root.querySelectorAll ? root : document;
    var scope = root === document ? document : root.parentNode || root;
    scope.querySelectorAll("dialog[data-celebration]:not([data-ready])").forEach(openCelebration);
    scope.querySelectorAll("[data-toast]:not([data-toast-timed])").forEach(function (node) {
      node.setAttribute("data-toast-timed", "");
      scheduleRemoval(node);
    });
  }

  /* ---- Time zone detected in the browser on sign-up (issue 11) ------------------ */
  function detectTimezone() {
    var selects = document.querySelectorAll("select[data-detect-timezone]");
    if (!selects.length) return;  // only the sign-up and settings forms ask (no Intl work on other pages)
    var zone = null;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) return;
    selects.forEach(function (select) {
      if (select.value && select.value !== "UTC") return;  // the learner already chose
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value === zone) { select.value = zone; return; }
      }
    });
  }

  /* ---- Admin nav on a phone: one row scrolling sideways; show the current page's link ---------- */
  function revealCurrentNavLink() {
    document.querySelectorAll(".admin-nav ul").forEach(function (row) {
      var current = row.querySelector('[aria-current="page"]');
      if (!current || row.scrollWidth <= row.clientWidth) return;
      var item = current.closest("li") || current;
      row.scrollLeft = item.offsetLeft - row.offsetLeft - (row.clientWidth - item.offsetWidth) / 2;
    });
  }

  function start() {
    initTheme();
    revealCurrentNavLink();
    detectTimezone();
    document.body.addEventListener("thrive:points", onPoints);
    init(document);
    if (window.htmx) {
      window.htmx.onLoad(function (elt) { init(elt); });
      // Out-of-band swaps (a celebration carried by a poll) settle here.
      document.body.addEventListener("htmx:afterSettle", function () { init(document); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
