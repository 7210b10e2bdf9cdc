// The review page: one question on screen, the next one already fetched, every action on a key.
// Network calls run one after another in the background (a promise chain), so answering never waits
// for the server and the server sees the actions in the order they were made.
(() => {
  "use strict";
  const root = document.getElementById("review");
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const player = $("player");
  const image = $("spectrogram-image");
  const RENEW_EVERY_MS = 120 * 1000;
  const SEEK_SECONDS = 5;
  const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];
  // "After listening" means this much of the clip heard, not the moment autoplay starts.
  const REVEAL_AFTER_LISTENING_SECONDS = 3;

  const items = []; // items[0] is on screen, the rest are prefetched
  // Answered or skipped here but not yet confirmed by the server: the server still counts them as held,
  // so a claim made meanwhile must not bring them back.
  const inFlight = new Set();
  let answersInFlight = 0; // answers the tally the server last sent does not count yet
  const first = JSON.parse($("first-item").textContent);
  if (first) items.push(first);
  let revealed = false;
  let listened = 0; // seconds of the item on screen heard so far
  let lastTime = null;
  let chain = Promise.resolve();
  let pending = 0; // network tasks queued or running
  let announcedId = null; // the question screen readers were last told about
  let prefetching = false;
  // Answers and skips pressed while the next question was still on its way: applied in order as questions
  // arrive, so fast typing is never dropped (and never answers a question twice).
  const typedAhead = [];

  function flash(text, isError = false) {
    const box = $("flash");
    box.textContent = text;
    box.classList.toggle("error", isError);
    box.setAttribute("role", isError ? "alert" : "status");
  }

  async function call(url, body) {
    const response = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Requested-With": "review-page" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.status === 401 || response.status === 403) {
      window.location.reload(); // logged out, or the role was taken away: the server decides what to show
      throw new Error("not allowed");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(data.error || `the server answered ${response.status}`), { status: response.status });
    return data;
  }

  function later(task) {
    pending += 1;
    chain = chain
      .then(task)
      .catch((error) => flash(error.message, true))
      .finally(() => {
        pending -= 1;
        if (pending === 0) settled();
      });
    return chain;
  }

  // Nothing more is coming from the server: with no question left, the empty state (not "loading") is true.
  function settled() {
    if (items.length) return;
    if (typedAhead.length) {
      flash(`${typedAhead.length} key press${typedAhead.length === 1 ? "" : "es"} came after the last question; `
        + "nothing was answered with them.", true);
      typedAhead.length = 0;
    }
    show();
  }

  function datasetFilter() {
    return root.dataset.dataset ? { dataset: root.dataset.dataset } : {};
  }

  function onPage() {
    return [...items.map((i) => i.id), ...inFlight].slice(0, 10);
  }

  function preload(item) {
    new Image().src = item.spectrogram_url;
    const audio = new Audio();
    audio.preload = "auto";
    audio.src = item.audio_url;
  }

  function add(item) {
    if (item && !inFlight.has(item.id) && !items.some((held) => held.id === item.id)) {
      items.push(item);
      preload(item);
      if (items.length === 1) show();
      while (items.length && typedAhead.length) typedAhead.shift()();
    }
  }

  function prefetch() {
    if (prefetching || items.length >= 2) return;
    prefetching = true;
    later(async () => {
      try {
        const data = await call(root.dataset.claimUrl, { ...datasetFilter(), exclude: onPage() });
        add(data.item);
      } finally {
        prefetching = false;
      }
    });
  }

  // The strip under the spectrogram: where the held-out model hears the tag, relative to the clip's strongest window.
  let strongestStart = null;

  function drawWhere(item, data) {
    const strip = $("where-strip");
    strip.replaceChildren();
    const seconds = (item.clip.duration || 0) || (data.starts.length ? data.starts.at(-1) + data.window_seconds : 0);
    if (!data.starts.length || !seconds) return;
    data.starts.forEach((start, index) => {
      const cell = document.createElement("span");
      cell.style.left = `${(start / seconds) * 100}%`;
      // Windows may overlap: each cell runs to the next window's start, so the strip never stacks colour.
      const end = index + 1 < data.starts.length ? data.starts[index + 1] : Math.min(seconds, start + data.window_seconds);
      cell.style.width = `${(Math.max(0, end - start) / seconds) * 100}%`;
      cell.style.opacity = String(0.08 + 0.92 * data.strength[index]);
      strip.append(cell);
    });
    strongestStart = data.strongest_start;
    $("where-tag").textContent = item.tag.name;
    $("where").hidden = false;
  }

  function fetchWhere(item) {
    strongestStart = null;
    $("where").hidden = true;
    if (!item.windows_url) return;
    call(item.windows_url)
      .then((data) => { if (items[0] === item) drawWhere(item, data); })
      .catch(() => {}); // the strip is a help, not the question: without it the page works as before
  }

  function jumpToStrongest() {
    if (strongestStart === null) {
      flash("No window-by-window evidence for this clip (it comes with the next audit or retraining).");
      return;
    }
    player.currentTime = strongestStart;
    player.play().catch(() => {});
    movePlayhead();
  }

  function setTally(today, remaining) {
    $("tally-today").textContent = today;
    $("tally-remaining").textContent = remaining;
  }

  function tallyUrl() {
    return root.dataset.dataset ? `${root.dataset.tallyUrl}?dataset=${encodeURIComponent(root.dataset.dataset)}`
      : root.dataset.tallyUrl;
  }

  const minutes = (seconds) => (seconds >= 90 ? `about ${Math.round(seconds / 60)} min` : `about ${seconds} s`);

  // The empty state says why it is empty: an audit under way (with its progress) or a tag focus holding questions.
  function drawOutlook(data) {
    const box = $("outlook");
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

  function refreshTally() {
    later(async () => {
      const data = await call(tallyUrl());
      setTally(data.reviewed_today + answersInFlight, Math.max(0, data.remaining - answersInFlight));
      drawOutlook(data);
    });
  }

  // The label and the model's belief are not in the question: they are asked for here, once, when shown.
  async function reveal() {
    const item = items[0];
    if (!item || revealed) return;
    revealed = true;
    $("reveal-hint").textContent = "Fetching the current label…";
    try {
      const data = await call(item.reveal_url, {});
      if (items[0] !== item) return; // answered meanwhile
      $("given").textContent = data.given ? `tagged ${item.tag.name}` : `not tagged ${item.tag.name}`;
      $("probability").textContent =
        data.probability === null ? "nothing yet (no model)" : `${Math.round(data.probability * 100)}% present`;
      $("reveal").hidden = false;
      $("reveal-hint").textContent = "";
    } catch (error) {
      revealed = false;
      $("reveal-hint").textContent = `The label could not be fetched: ${error.message}`;
    }
  }

  function show() {
    const item = items[0];
    const waiting = !item && pending > 0; // the next question is on its way: not "nothing waiting"
    $("question-card").hidden = !item;
    $("loading-state").hidden = !waiting;
    $("empty-state").hidden = Boolean(item) || waiting;
    player.pause();
    if (!item) {
      player.removeAttribute("src");
      return;
    }
    if (item.id !== announcedId) {
      // Screen readers hear each new question once, not every redraw of the same one.
      announcedId = item.id;
      $("announce").textContent = `New question: is ${item.tag.name} present in ${item.clip.path}?`;
    }
    $("clip-path").textContent = `${item.dataset} · ${item.clip.path}`;
    $("tag-name").textContent = item.tag.name;
    $("tag-description").textContent = item.tag.description || "";
    revealed = false;
    listened = 0;
    lastTime = null;
    $("reveal").hidden = true;
    $("reveal-hint").textContent =
      item.reveal_label === "on_key" ? "Press L to see the current label and the model's belief."
        : `The current label and the model's belief appear after ${REVEAL_AFTER_LISTENING_SECONDS} s of listening, or press L.`;
    $("spectrogram-missing").hidden = true;
    image.hidden = false;
    image.src = item.spectrogram_url;
    fetchWhere(item);
    $("playhead").style.left = "0%";
    player.src = item.audio_url;
    player.playbackRate = Number($("rate").value);
    player.play().catch(() => {}); // browsers may refuse to start before the first key press
  }

  // The picture spans the whole clip (a long clip's is pooled to a bounded width), so the audio's duration maps it.
  function spectrogramSeconds() {
    const item = items[0];
    if (Number.isFinite(player.duration) && player.duration > 0) return player.duration;
    return (item && item.clip.duration) || 0;
  }

  function movePlayhead() {
    const seconds = spectrogramSeconds();
    $("playhead").style.left = seconds ? `${Math.min(100, (player.currentTime / seconds) * 100)}%` : "0%";
    if (!player.paused) requestAnimationFrame(movePlayhead);
  }

  function answer(decision) {
    const item = items.shift();
    if (!item) return;
    inFlight.add(item.id);
    answersInFlight += 1;
    const today = Number($("tally-today").textContent) + 1;
    setTally(today, Math.max(0, Number($("tally-remaining").textContent) - 1));
    later(async () => {
      let data;
      try {
        data = await call(`${root.dataset.apiRoot}${item.id}/submit`, {
          decision, next: true, ...datasetFilter(), exclude: onPage().filter((id) => id !== item.id),
        });
      } catch (error) {
        flash(`Not saved: ${item.tag.name} ${decision} for ${item.clip.path}. ${error.message}`, true);
        refreshTally();
        prefetch();
        return;
      } finally {
        inFlight.delete(item.id);
        answersInFlight -= 1;
      }
      flash(`Saved: ${item.tag.name} ${decision} for ${item.clip.path}. Z takes it back.`);
      add(data.next);
    });
    show(); // after the request is queued: with no question left, the page shows it is fetching one
    prefetch();
  }

  function skip() {
    const item = items.shift();
    if (!item) return;
    inFlight.add(item.id);
    later(async () => {
      let data;
      try {
        data = await call(`${root.dataset.apiRoot}${item.id}/skip`, {
          next: true, ...datasetFilter(), exclude: onPage().filter((id) => id !== item.id),
        });
      } finally {
        inFlight.delete(item.id);
      }
      flash(`Skipped ${item.clip.path}; it goes to someone else.`);
      add(data.next);
    });
    show();
    prefetch();
  }

  function undo() {
    later(async () => {
      const data = await call(root.dataset.undoUrl, {});
      if (!data.item) {
        flash("Nothing to undo.");
        return;
      }
      const others = items.filter((held) => held.id !== data.item.id);
      items.splice(0, items.length, data.item, ...others);
      show();
      setTally(Math.max(0, Number($("tally-today").textContent) - 1), Number($("tally-remaining").textContent) + 1);
      flash(`Undone: your answer on ${data.item.tag.name} for ${data.item.clip.path} was taken back.`);
      refreshTally();
    });
  }

  function seek(delta) {
    player.currentTime = Math.max(0, Math.min((player.duration || 0) - 0.05, player.currentTime + delta));
    movePlayhead();
  }

  function changeRate(step) {
    const select = $("rate");
    const index = RATES.indexOf(Number(select.value));
    select.value = String(RATES[Math.max(0, Math.min(RATES.length - 1, index + step))]);
    player.playbackRate = Number(select.value);
  }

  const KEYS = {
    1: () => answer("present"), y: () => answer("present"),
    2: () => answer("absent"), n: () => answer("absent"),
    3: () => answer("unsure"), u: () => answer("unsure"),
    s: skip, z: undo,
    " ": () => (player.paused ? player.play() : player.pause()),
    ArrowLeft: () => seek(-SEEK_SECONDS), ArrowRight: () => seek(SEEK_SECONDS),
    "[": () => changeRate(-1), "]": () => changeRate(1),
    l: reveal,
    w: jumpToStrongest,
  };

  const TYPE_AHEAD = new Set([KEYS[1], KEYS[2], KEYS[3], KEYS.y, KEYS.n, KEYS.u, skip]);
  const TEXT_FIELDS = new Set(["INPUT", "TEXTAREA"]);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || TEXT_FIELDS.has(event.target.tagName)) return;
    const action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    // A clicked speed list keeps the focus; the page's keys must still answer rather than pick a speed.
    if (event.target.tagName === "SELECT") event.target.blur();
    event.preventDefault(); // space must not scroll or press a focused button; arrows must not scroll
    if (items.length || action === undo) action();
    else if (pending > 0 && TYPE_AHEAD.has(action)) typedAhead.push(action);
  });

  document.querySelectorAll(".answer").forEach((button) =>
    button.addEventListener("click", () => answer(button.dataset.decision)));
  $("skip").addEventListener("click", skip);
  $("undo").addEventListener("click", undo);
  $("undo-empty").addEventListener("click", undo);
  $("check-again").addEventListener("click", () => { prefetch(); refreshTally(); });
  $("rate").addEventListener("change", () => {
    player.playbackRate = Number($("rate").value);
    $("rate").blur(); // back to the page's keys
  });
  player.addEventListener("play", () => requestAnimationFrame(movePlayhead));
  player.addEventListener("seeking", () => { lastTime = null; }); // a jump is not listening
  player.addEventListener("ended", () => { // a clip shorter than the listening time, heard to its end
    if (items[0] && items[0].reveal_label === "after_listen") reveal();
  });
  player.addEventListener("timeupdate", () => {
    if (!player.paused && lastTime !== null) listened += Math.max(0, Math.min(1, player.currentTime - lastTime));
    lastTime = player.currentTime;
    const item = items[0];
    if (item && item.reveal_label === "after_listen" && !revealed && listened >= REVEAL_AFTER_LISTENING_SECONDS) reveal();
  });
  player.addEventListener("seeked", movePlayhead);
  image.addEventListener("error", () => { image.hidden = true; $("spectrogram-missing").hidden = false; });
  $("where-strip").addEventListener("click", (event) => {
    const box = $("where-strip").getBoundingClientRect();
    player.currentTime = ((event.clientX - box.left) / box.width) * spectrogramSeconds();
    player.play().catch(() => {});
  });
  $("spectrogram").addEventListener("click", (event) => {
    const box = image.getBoundingClientRect();
    player.currentTime = ((event.clientX - box.left) / box.width) * spectrogramSeconds();
    player.play().catch(() => {});
  });

  // Leases lapse after ten minutes unless renewed: keep every item this page holds.
  setInterval(() => items.forEach((item) => later(() => call(`${root.dataset.apiRoot}${item.id}/renew`, {}))),
    RENEW_EVERY_MS);
  setInterval(refreshTally, 60 * 1000);
  // With nothing on screen, look for new questions (an audit finishing, a lease lapsing) without a reload.
  setInterval(() => {
    if (!items.length && pending === 0) {
      prefetch();
      refreshTally();
    }
  }, Number(root.dataset.pollSeconds) * 1000);

  show();
  prefetch();
  if (!items.length) refreshTally();
})();
