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
  let prefetching = false;

  function flash(text, isError = false) {
    const box = $("flash");
    box.textContent = text;
    box.classList.toggle("error", isError);
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
    chain = chain.then(task).catch((error) => flash(error.message, true));
    return chain;
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

  function setTally(today, remaining) {
    $("tally-today").textContent = today;
    $("tally-remaining").textContent = remaining;
  }

  function refreshTally() {
    later(async () => {
      const data = await call(root.dataset.tallyUrl);
      setTally(data.reviewed_today + answersInFlight, Math.max(0, data.remaining - answersInFlight));
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
    $("question-card").hidden = !item;
    $("empty-state").hidden = Boolean(item);
    player.pause();
    if (!item) {
      player.removeAttribute("src");
      return;
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
    show();
    const today = Number($("tally-today").textContent) + 1;
    setTally(today, Math.max(0, Number($("tally-remaining").textContent) - 1));
    later(async () => {
      let data;
      try {
        data = await call(`${root.dataset.apiRoot}${item.id}/submit`, {
          decision, next: true, ...datasetFilter(), exclude: onPage().filter((id) => id !== item.id),
        });
      } finally {
        inFlight.delete(item.id);
        answersInFlight -= 1;
      }
      flash(`Saved: ${item.tag.name} ${decision} for ${item.clip.path}. Z takes it back.`);
      add(data.next);
    });
    prefetch();
  }

  function skip() {
    const item = items.shift();
    if (!item) return;
    inFlight.add(item.id);
    show();
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
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.tagName === "SELECT") return;
    const action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault(); // space must not scroll or press a focused button; arrows must not scroll
    const onScreen = !$("question-card").hidden;
    if (onScreen || action === undo) action();
  });

  document.querySelectorAll(".answer").forEach((button) =>
    button.addEventListener("click", () => answer(button.dataset.decision)));
  $("skip").addEventListener("click", skip);
  $("undo").addEventListener("click", undo);
  $("undo-empty").addEventListener("click", undo);
  $("check-again").addEventListener("click", () => { prefetch(); refreshTally(); });
  $("rate").addEventListener("change", () => { player.playbackRate = Number($("rate").value); });
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
  $("spectrogram").addEventListener("click", (event) => {
    const box = image.getBoundingClientRect();
    player.currentTime = ((event.clientX - box.left) / box.width) * spectrogramSeconds();
    player.play().catch(() => {});
  });

  // Leases lapse after ten minutes unless renewed: keep every item this page holds.
  setInterval(() => items.forEach((item) => later(() => call(`${root.dataset.apiRoot}${item.id}/renew`, {}))),
    RENEW_EVERY_MS);
  setInterval(refreshTally, 60 * 1000);

  show();
  prefetch();
})();
