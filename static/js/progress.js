// Live progress bars: poll each running job's progress and redraw; reload the page when one finishes.
(() => {
  "use strict";
  const POLL_MS = 2000;
  const format = (seconds) => (seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`);

  function draw(box, data) {
    box.querySelector(".bar span").style.width = `${Math.round(data.progress * 100)}%`;
    box.querySelector(".bar").className = `bar ${data.status}`;
    box.querySelector(".status").textContent = data.status;
    box.querySelector(".stage").textContent = data.stage;
    box.querySelector(".percent").textContent = `${Math.round(data.progress * 100)}%`;
    box.querySelector(".elapsed").textContent = data.seconds === null ? "" : format(data.seconds);
    box.querySelector(".eta").textContent = data.eta_seconds === null ? "" : `· about ${format(data.eta_seconds)} left`;
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
