// Clip mode's rows on the review page: per question about the clip, its key (1–9), the tag and its description,
// the three answers (the chosen one pressed) and, once revealed, the current label and the model's belief.
// review.js keeps the state and calls drawClipRows(list, group, state) whenever it changes.
(() => {
  "use strict";

  // state: cursor (the marked row), answers (question id → decision), labels (question id → revealed label),
  // belief (a revealed label → its text), choose(row index, decision) for a click.
  function drawClipRows(list, group, state) {
    list.replaceChildren();
    group.forEach((item, index) => {
      const row = document.createElement("li");
      row.className = `clip-row${index === state.cursor ? " current" : ""}`;
      if (index === state.cursor) row.setAttribute("aria-current", "true");
      const name = document.createElement("div");
      name.className = "row-tag";
      const key = document.createElement("kbd");
      key.textContent = String(index + 1);
      const tag = document.createElement("strong");
      tag.textContent = item.tag.name;
      name.append(key, " ", tag);
      if (item.tag.description) {
        const description = document.createElement("span");
        description.className = "meta row-description";
        description.textContent = ` ${item.tag.description}`;
        name.append(description);
      }
      const choices = document.createElement("div");
      choices.className = "row-choices";
      choices.setAttribute("role", "group");
      choices.setAttribute("aria-label", `Is ${item.tag.name} present?`);
      for (const decision of ["present", "absent", "unsure"]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = `choice ${decision}`;
        button.textContent = decision;
        button.setAttribute("aria-pressed", String(state.answers.get(item.id) === decision));
        button.addEventListener("click", () => state.choose(index, decision));
        choices.append(button);
      }
      row.append(name, choices);
      const data = state.labels.get(item.id);
      if (data) {
        const shown = document.createElement("span");
        shown.className = "meta row-reveal";
        shown.textContent = `labelled now: ${data.given ? "tagged" : "not tagged"} · the model thinks ${state.belief(data)}`;
        row.append(shown);
      }
      list.append(row);
    });
  }

  window.drawClipRows = drawClipRows;
})();
