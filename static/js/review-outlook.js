// The review page's empty state says why it is empty: an audit under way (with its progress bar) or a tag focus
// holding questions back. review.js calls drawReviewOutlook with what the tally API answers.
(() => {
  "use strict";
  const minutes = (seconds) => (seconds >= 90 ? `about ${Math.round(seconds / 60)} min` : `about ${seconds} s`);

  function drawReviewOutlook(box, data) {
    box.replaceChildren();
    for (const run of data.audits) {
      const line = document.createElement("div");
      line.className = "run-progress";
      const percent = Math.round(run.progress * 100);
      const label = `${run.kind === "audit" ? "An audit" : run.kind === "retrain" ? "A retraining" : "A re-score"} of ${run.dataset}`;
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", label);
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", String(percent));
      const fill = document.createElement("span");
      fill.style.width = `${percent}%`;
      bar.append(fill);
      const text = document.createElement("span");
      text.className = "progress-text";
      text.textContent = `${label} is ${run.status}${run.stage ? ` (${run.stage})` : ""}: ${percent}%`
        + `${run.eta_seconds === null ? "" : `, ${minutes(run.eta_seconds)} left`}. Its questions appear here when it finishes.`;
      line.append(bar, text);
      box.append(line);
    }
    for (const focus of data.focus) {
      const line = document.createElement("p");
      const more = focus.more_tags ? ` and ${focus.more_tags} more` : "";
      line.textContent = `${focus.dataset}: only questions about ${focus.tags.join(", ")}${more} are handed out now `
        + `(an admin put them in focus); ${focus.held_back} question${focus.held_back === 1 ? "" : "s"} about other tags `
        + "wait until the focus is lifted.";
      box.append(line);
    }
  }

  window.drawReviewOutlook = drawReviewOutlook;
})();
