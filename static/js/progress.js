// Live progress bars: poll each running job's progress and redraw; reload the page when one finishes.
// Times come formatted by the server (progress.json's `elapsed` and `eta`), so the bar reads as the page does.
(() => {
  "use strict";
  const POLL_MS = 2000;

  function draw(box, data) {
    const percent = Math.round(data.progress * 100);
    const bar = box.querySelector(".bar");
    bar.className = `bar ${data.status}`;
    bar.querySelector("span").style.width = `${percent}%`;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", [data.status, data.stage, `${percent}%`].filter(Boolean).join(", "));
    box.querySelector(".status").textContent = data.status;
    box.querySelector(".stage").textContent = data.stage;
    box.querySelector(".percent").textContent = `${percent}%`;
    box.querySelector(".elapsed").textContent = data.elapsed ? `· ${data.elapsed}` : "";
    box.querySelector(".eta").textContent = data.eta ? `· about ${data.eta} left` : "";
    const message = document.querySelector(".run-message");
    if (message) message.textContent = data.message;
  }

  document.querySelectorAll(".run-progress[data-in-progress='1']").forEach((box) => {
    const timer = setInterval(async () => {
      try {
        const response = await fetch(box.dataset.progressUrl, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        draw(box, data);
        if (!data.in_progress) {
          clearInterval(timer);
          window.location.reload(); // the result, the error and the buttons change with the status
        }
      } catch (error) {
        // the server is restarting: try again at the next tick
      }
    }, POLL_MS);
  });
})();
