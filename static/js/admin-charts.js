/* Admin dashboard charts (§11): drawn from the tables on the page (the tables stay the source and
   the fallback; without JavaScript or Chart.js only the tables show). Suppressed cells are gaps. */
(function () {
  "use strict";
  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-chart-table"));
    if (!table || typeof window.Chart === "undefined") { canvas.hidden = true; return; }
    var labels = [], active = [], perLearner = [];
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var cells = tr.querySelectorAll("[data-value]");
      labels.push(tr.querySelector("th").textContent.trim());
      active.push(cells[0].dataset.value === "" ? null : Number(cells[0].dataset.value));
      perLearner.push(cells[1].dataset.value === "" ? null : Number(cells[1].dataset.value));
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [
        { label: "Active learners", data: active, yAxisID: "y", borderColor: "#e8590c", spanGaps: false },
        { label: "Points per active learner", data: perLearner, yAxisID: "y1", borderColor: "#1971c2", spanGaps: false }
      ] },
      options: { animation: false, scales: { y: { beginAtZero: true, position: "left" },
                                             y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart-table]").forEach(draw);
  });
})();
