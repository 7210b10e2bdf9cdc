// The review page: the next question (or clip) already fetched, every action on a key. Two modes: one question at a
// time, and clip mode (the default), where a clip with several questions shows them as rows answered after one
// listen; each row is still one answer to one question. Network calls run one after another in the background (a
// promise chain), so answering never waits for the server and the server sees the actions in the order they were
// made.
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
  const MAX_ROWS = 9; // keys 1–9; the server hands out at most this many questions about one clip
  const MODE_KEY = "label-auditor.review-mode";

  // The questions this page holds, a clip's together: the first one (clip mode: the first clip's) is on screen,
  // the rest are prefetched.
  const items = [];
  // Answered or skipped here but not yet confirmed by the server: the server still counts them as held,
  // so a claim made meanwhile must not bring them back.
  const inFlight = new Set();
  const inFlightClips = new Map(); // clip id → questions about it still in flight
  let answersInFlight = 0; // answers the tally the server last sent does not count yet
  const first = JSON.parse($("first-item").textContent);
  if (first) items.push(first);
  let mode = ["clip", "question"].includes(new URLSearchParams(window.location.search).get("mode"))
    ? new URLSearchParams(window.location.search).get("mode") : (localStorage.getItem(MODE_KEY) || "clip");
  if (!["clip", "question"].includes(mode)) mode = "clip";
  let shownKey = null; // what is on screen: a clip (clip mode) or a question; a new one is a new listen
  const revealedLabels = new Map(); // question id → {given, probability}, once asked for
  const rowAnswers = new Map(); // clip mode: question id → the decision chosen on its row, not yet sent
  let cursor = 0; // clip mode: the row the keys Y, N and U answer
  let noteFor = null; // the question the note box was opened for (clip mode: the row marked then)
  let rowsWarned = false; // the flash says rows are unanswered: it goes once they are answered
  let revealed = false;
  let listened = 0; // seconds of the clip on screen heard so far
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

  function clipsOnPage() {
    return [...new Set([...items.map((i) => i.clip.id), ...inFlightClips.keys()])].slice(0, 10);
  }

  // What is on screen: the first question, or in clip mode every held question about the first clip.
  function onScreen() {
    if (!items.length) return [];
    if (mode !== "clip") return [items[0]];
    const clip = items[0].clip.id;
    let count = 0;
    while (count < items.length && count < MAX_ROWS && items[count].clip.id === clip) count += 1;
    return items.slice(0, count);
  }

  // Rows only where a clip has several questions: a clip with one is asked as one question, with the same keys.
  function rowsShown() {
    return mode === "clip" && onScreen().length > 1;
  }

  // A clip's questions side by side, ordered by tag name (nothing tells a calibration pair from a flagged one);
  // clips in the order they arrived (an undone question's clip first: it was put first).
  function regroup() {
    const order = new Map();
    items.forEach((item) => { if (!order.has(item.clip.id)) order.set(item.clip.id, order.size); });
    items.sort((a, b) => order.get(a.clip.id) - order.get(b.clip.id) || a.tag.name.localeCompare(b.tag.name));
  }

  function inFlightAdd(item) {
    inFlight.add(item.id);
    inFlightClips.set(item.clip.id, (inFlightClips.get(item.clip.id) || 0) + 1);
  }

  function inFlightDone(item) {
    inFlight.delete(item.id);
    const left = (inFlightClips.get(item.clip.id) || 1) - 1;
    if (left > 0) inFlightClips.set(item.clip.id, left); else inFlightClips.delete(item.clip.id);
  }

  function preload(item) {
    if (items.some((held) => held !== item && held.clip.id === item.clip.id)) return; // its clip is loaded once
    new Image().src = item.spectrogram_url;
    const audio = new Audio();
    audio.preload = "auto";
    audio.src = item.audio_url;
  }

  function add(...arrived) {
    const before = onScreen().map((item) => item.id).join();
    for (const item of arrived) {
      if (item && !inFlight.has(item.id) && !items.some((held) => held.id === item.id)) {
        items.push(item);
        preload(item);
      }
    }
    regroup();
    if (onScreen().map((item) => item.id).join() !== before) show();
    if (typedAhead.length && rowsShown()) {
      // Keys typed blind answer one question each; a clip of several is answered row by row, after listening.
      flash(`This clip has ${onScreen().length} questions: the ${typedAhead.length} key press`
        + `${typedAhead.length === 1 ? "" : "es"} made while it loaded answered nothing.`, true);
      typedAhead.length = 0;
    }
    while (items.length && typedAhead.length) typedAhead.shift()();
  }

  function prefetch() {
    const ahead = mode === "clip" ? new Set(items.map((item) => item.clip.id)).size : items.length;
    if (prefetching || ahead >= 2) return;
    prefetching = true;
    later(async () => {
      try {
        if (mode === "clip") {
          const data = await call(root.dataset.claimClipUrl, { ...datasetFilter(), exclude_clips: clipsOnPage() });
          add(...data.items);
        } else {
          const data = await call(root.dataset.claimUrl, { ...datasetFilter(), exclude: onPage() });
          add(data.item);
        }
      } finally {
        prefetching = false;
      }
    });
  }

  // Clip mode: bring the rest of the on-screen clip's questions (after a reload, an undo or a switch of mode).
  function completeClip() {
    if (mode !== "clip" || !items.length) return;
    const others = clipsOnPage().filter((clip) => clip !== items[0].clip.id);
    later(async () => {
      const data = await call(root.dataset.claimClipUrl, { ...datasetFilter(), exclude_clips: others });
      add(...data.items);
    });
  }

  // The strip under the spectrogram: where the held-out model hears the tag, relative to the clip's strongest window.
  let strongestStart = null;
  let whereItem = null; // the question the strip is drawn for

  function drawWhere(item, data) {
    const strip = $("where-strip");
    strip.replaceChildren();
    if (!data.cells.length) return;
    for (const placed of data.cells) { // placed by the server (auditor/runs/evidence.py), as the admin's item page
      const cell = document.createElement("span");
      cell.style.left = `${placed.left}%`;
      cell.style.width = `${placed.width}%`;
      cell.style.opacity = String(placed.opacity);
      strip.append(cell);
    }
    strongestStart = data.strongest_start;
    $("where-tag").textContent = item.tag.name;
    $("where").hidden = false;
  }

  function fetchWhere(item) {
    if (whereItem === item) return;
    whereItem = item;
    strongestStart = null;
    $("where").hidden = true;
    if (!item.windows_url) return;
    call(item.windows_url)
      .then((data) => { if (whereItem === item) drawWhere(item, data); })
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

  function refreshTally() {
    later(async () => {
      const data = await call(tallyUrl());
      setTally(data.reviewed_today + answersInFlight, Math.max(0, data.remaining - answersInFlight));
      window.drawReviewOutlook($("outlook"), data);
    });
  }

  const beliefText = (data) =>
    (data.probability === null ? "nothing yet (no model)" : `${Math.round(data.probability * 100)}% present`);

  // The label and the model's belief are not in the question: they are asked for here, once per question, when
  // the annotator has listened (or pressed L); in clip mode for every row.
  async function reveal() {
    const group = onScreen();
    if (!group.length) return;
    revealed = true;
    const missing = group.filter((item) => !revealedLabels.has(item.id));
    if (missing.length) $("reveal-hint").textContent = "Fetching the current labels…";
    try {
      for (const item of missing) revealedLabels.set(item.id, await call(item.reveal_url, {}));
    } catch (error) {
      revealed = false;
      $("reveal-hint").textContent = `The label could not be fetched: ${error.message}`;
      return;
    }
    drawReveal();
  }

  function drawReveal() {
    const group = onScreen();
    if (!revealed || !group.length) return;
    $("reveal-hint").textContent = "";
    if (rowsShown()) {
      drawRows();
      return;
    }
    const item = group[0];
    const data = revealedLabels.get(item.id);
    if (!data) return;
    $("given").textContent = data.given ? `tagged ${item.tag.name}` : `not tagged ${item.tag.name}`;
    $("probability").textContent = beliefText(data);
    $("reveal").hidden = false;
  }

  // Clip mode's rows: a key number, the tag, the three answers, and (once revealed) the label and the belief.
  function drawRows() {
    const group = onScreen();
    cursor = Math.max(0, Math.min(cursor, group.length - 1));
    const list = $("clip-rows");
    window.drawClipRows(list, group, {
      cursor,
      answers: rowAnswers,
      labels: revealed ? revealedLabels : new Map(),
      belief: beliefText,
      choose: (index, decision) => { cursor = index; markRow(decision, false); },
    });
    const answered = group.filter((item) => rowAnswers.has(item.id)).length;
    $("rows-status").textContent = `${answered} of ${group.length} answered`;
    if (group[cursor]) fetchWhere(group[cursor]);
  }

  // Y, N, U or a click answers a row; the cursor moves on to the next row without an answer.
  function markRow(decision, advance = true) {
    const group = onScreen();
    const item = group[cursor];
    if (!item) return;
    rowAnswers.set(item.id, decision);
    if (rowsWarned && group.every((row) => rowAnswers.has(row.id))) {
      rowsWarned = false;
      flash("Every row has an answer: Enter sends them.");
    }
    if (advance) {
      const next = group.findIndex((candidate, index) => index > cursor && !rowAnswers.has(candidate.id));
      const first = group.findIndex((candidate) => !rowAnswers.has(candidate.id));
      cursor = next >= 0 ? next : first >= 0 ? first : cursor;
    }
    drawRows();
  }

  // 1–9: pick that row and say "present"; the same key again says "absent".
  function toggleRow(index) {
    const group = onScreen();
    if (index >= group.length) return;
    cursor = index;
    markRow(rowAnswers.get(group[index].id) === "present" ? "absent" : "present", false);
  }

  function moveCursor(step) {
    cursor = Math.max(0, Math.min(onScreen().length - 1, cursor + step));
    drawRows();
  }

  function show() {
    const group = onScreen();
    const item = group[0];
    const waiting = !item && pending > 0; // the next question is on its way: not "nothing waiting"
    $("question-card").hidden = !item;
    $("loading-state").hidden = !waiting;
    $("empty-state").hidden = Boolean(item) || waiting;
    drawMode();
    if (!item) {
      player.pause();
      player.removeAttribute("src");
      shownKey = null;
      return;
    }
    const key = mode === "clip" ? `clip ${item.clip.id}` : `question ${item.id}`;
    const fresh = key !== shownKey; // a new clip (or in question mode a new question): a new listen
    shownKey = key;
    const rows = rowsShown();
    const announcement = rows
      ? `New clip: ${item.clip.path}, ${group.length} questions.`
      : `New question: is ${item.tag.name} present in ${item.clip.path}?`;
    if (announcement !== announcedId) {
      // Screen readers hear each new question or clip once, not every redraw of the same one.
      announcedId = announcement;
      $("announce").textContent = announcement;
    }
    $("clip-path").textContent = `${item.dataset} · ${item.clip.path}`;
    $("single-question").hidden = rows;
    $("single-answers").hidden = rows;
    $("clip-questions").hidden = !rows;
    $("clip-rows").hidden = !rows;
    $("rows-actions").hidden = !rows;
    $("keys-rows").hidden = !rows;
    $("tag-name").textContent = item.tag.name;
    $("tag-description").textContent = item.tag.description || "";
    $("reveal").hidden = true;
    if (noteFor && !group.includes(noteFor)) {
      if ($("note").value.trim()) flash(`Your note about ${noteFor.tag.name} was not sent: its question is gone.`, true);
      closeNote();
    }
    if (fresh) {
      revealed = false;
      listened = 0;
      lastTime = null;
      cursor = 0;
      $("reveal-hint").textContent =
        item.reveal_label === "on_key" ? "Press L to see the current labels and the model's belief."
          : `The current label${rows ? "s" : ""} and the model's belief appear after ${REVEAL_AFTER_LISTENING_SECONDS} s `
            + "of listening, or press L.";
      $("spectrogram-missing").hidden = true;
      image.hidden = false;
      image.src = item.spectrogram_url;
      $("playhead").style.left = "0%";
      player.pause();
      player.src = item.audio_url;
      player.playbackRate = Number($("rate").value);
      player.play().catch(() => {}); // browsers may refuse to start before the first key press
    }
    if (rows) drawRows(); else fetchWhere(item);
    if (revealed) reveal(); // rows that arrived after the reveal are revealed too
  }

  // C: a note for the admins about the question on screen (clip mode: the marked row), sent with its answer.
  function openNote() {
    const group = onScreen();
    noteFor = rowsShown() ? group[cursor] : group[0];
    if (!noteFor) return;
    $("note-for").textContent = `${noteFor.tag.name} in ${noteFor.clip.path}`;
    $("note-box").hidden = false;
    $("note").focus();
  }

  function closeNote() {
    $("note").value = "";
    $("note-box").hidden = true;
    noteFor = null;
  }

  // The note, when it was written for this question (then it goes with this answer and the box empties).
  function takeNote(item) {
    const text = $("note").value.trim();
    if (!noteFor || noteFor.id !== item.id) return {};
    closeNote();
    return text ? { note: text } : {};
  }

  function drawMode() {
    const button = $("mode-switch");
    button.textContent = mode === "clip" ? "Mode: whole clip" : "Mode: one question at a time";
    button.setAttribute("aria-pressed", String(mode === "clip"));
  }

  // M or the button: the other mode, remembered in this browser.
  function switchMode() {
    mode = mode === "clip" ? "question" : "clip";
    localStorage.setItem(MODE_KEY, mode);
    regroup();
    show();
    flash(mode === "clip" ? "Whole-clip mode: a clip's questions come together, answered after one listen."
      : "One question at a time.");
    completeClip();
    prefetch();
  }

  // The picture spans the whole clip (a long clip's is pooled to a bounded width), so the audio's duration maps it.
  function spectrogramSeconds() {
    const item = onScreen()[0];
    if (Number.isFinite(player.duration) && player.duration > 0) return player.duration;
    return (item && item.clip.duration) || 0;
  }

  function movePlayhead() {
    const seconds = spectrogramSeconds();
    $("playhead").style.left = seconds ? `${Math.min(100, (player.currentTime / seconds) * 100)}%` : "0%";
    if (!player.paused) requestAnimationFrame(movePlayhead);
  }

  function answer(decision) {
    const item = items[0];
    if (!item) return;
    const note = takeNote(item);
    items.shift();
    inFlightAdd(item);
    answersInFlight += 1;
    const today = Number($("tally-today").textContent) + 1;
    setTally(today, Math.max(0, Number($("tally-remaining").textContent) - 1));
    later(async () => {
      let data;
      try {
        data = await call(`${root.dataset.apiRoot}${item.id}/submit`, {
          decision, ...note, next: mode !== "clip", ...datasetFilter(),
          exclude: onPage().filter((id) => id !== item.id),
        });
      } catch (error) {
        flash(`Not saved: ${item.tag.name} ${decision} for ${item.clip.path}. ${error.message}`, true);
        refreshTally();
        prefetch();
        return;
      } finally {
        inFlightDone(item);
        answersInFlight -= 1;
      }
      flash(`Saved: ${item.tag.name} ${decision} for ${item.clip.path}. Z takes it back.`);
      if (data.next) add(data.next);
      prefetch();
    });
    show(); // after the request is queued: with no question left, the page shows it is fetching one
    prefetch();
  }

  function skip() {
    const item = items.shift();
    if (!item) return;
    inFlightAdd(item);
    later(async () => {
      let data;
      try {
        data = await call(`${root.dataset.apiRoot}${item.id}/skip`, {
          next: mode !== "clip", ...datasetFilter(), exclude: onPage().filter((id) => id !== item.id),
        });
      } finally {
        inFlightDone(item);
      }
      flash(`Skipped ${item.clip.path}; it goes to someone else.`);
      if (data.next) add(data.next);
      prefetch();
    });
    show();
    prefetch();
  }

  // Clip mode, Enter: every row's answer, each one review of its question, sent in order.
  function sendRows() {
    const group = onScreen();
    const left = group.filter((item) => !rowAnswers.has(item.id)).length;
    if (left) {
      flash(`${left} row${left === 1 ? "" : "s"} still without an answer: Y, N or U answers the marked row `
        + "(S skips the whole clip).", true);
      rowsWarned = true;
      cursor = group.findIndex((item) => !rowAnswers.has(item.id));
      drawRows();
      return;
    }
    items.splice(0, group.length);
    const clip = group[0].clip.path;
    let saved = 0;
    for (const item of group) {
      const decision = rowAnswers.get(item.id);
      const note = takeNote(item);
      rowAnswers.delete(item.id);
      inFlightAdd(item);
      answersInFlight += 1;
      setTally(Number($("tally-today").textContent) + 1, Math.max(0, Number($("tally-remaining").textContent) - 1));
      later(async () => {
        try {
          await call(`${root.dataset.apiRoot}${item.id}/submit`, { decision, ...note, ...datasetFilter() });
          saved += 1;
          if (saved === group.length) flash(`Saved ${saved} answers for ${clip}. Z takes back the last one.`);
        } catch (error) {
          flash(`Not saved: ${item.tag.name} ${decision} for ${item.clip.path}. ${error.message}`, true);
          refreshTally();
        } finally {
          inFlightDone(item);
          answersInFlight -= 1;
        }
      });
    }
    show();
    prefetch();
  }

  // Clip mode, S: give the whole clip back, each question to someone else.
  function skipRows() {
    const group = onScreen();
    items.splice(0, group.length);
    for (const item of group) {
      rowAnswers.delete(item.id);
      inFlightAdd(item);
      later(async () => {
        try {
          await call(`${root.dataset.apiRoot}${item.id}/skip`, { ...datasetFilter() });
        } finally {
          inFlightDone(item);
        }
      });
    }
    flash(`Skipped ${group[0].clip.path}; its questions go to someone else.`);
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
      regroup();
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
    m: switchMode,
    c: openNote,
  };

  // Clip mode with rows on screen: 1–9 pick a row (present, again: absent), Y/N/U answer the marked row, Enter sends.
  const ROW_KEYS = {
    y: () => markRow("present"), n: () => markRow("absent"), u: () => markRow("unsure"),
    ArrowUp: () => moveCursor(-1), ArrowDown: () => moveCursor(1),
    Enter: sendRows, s: skipRows,
  };

  function keyAction(key) {
    if (rowsShown()) {
      if (/^[1-9]$/.test(key)) return () => toggleRow(Number(key) - 1);
      if (ROW_KEYS[key]) return ROW_KEYS[key];
    }
    return KEYS[key];
  }

  const TYPE_AHEAD = new Set([KEYS[1], KEYS[2], KEYS[3], KEYS.y, KEYS.n, KEYS.u, skip]);
  const TEXT_FIELDS = new Set(["INPUT", "TEXTAREA"]);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || TEXT_FIELDS.has(event.target.tagName)) return;
    const action = keyAction(event.key.length === 1 ? event.key.toLowerCase() : event.key);
    if (!action) return;
    // A clicked speed list keeps the focus; the page's keys must still answer rather than pick a speed.
    if (event.target.tagName === "SELECT") event.target.blur();
    event.preventDefault(); // space must not scroll or press a focused button; arrows must not scroll
    if (items.length || action === undo || action === switchMode) action();
    else if (pending > 0 && TYPE_AHEAD.has(action)) typedAhead.push(action);
  });

  document.querySelectorAll(".answer").forEach((button) =>
    button.addEventListener("click", () => answer(button.dataset.decision)));
  $("skip").addEventListener("click", skip);
  $("undo").addEventListener("click", undo);
  $("undo-empty").addEventListener("click", undo);
  $("undo-rows").addEventListener("click", undo);
  $("send-rows").addEventListener("click", sendRows);
  $("skip-rows").addEventListener("click", skipRows);
  $("mode-switch").addEventListener("click", switchMode);
  $("note").addEventListener("keydown", (event) => {
    if (event.key === "Escape") $("note").blur(); // back to the page's keys; the note stays for the answer
  });
  $("check-again").addEventListener("click", () => { prefetch(); refreshTally(); });
  $("rate").addEventListener("change", () => {
    player.playbackRate = Number($("rate").value);
    $("rate").blur(); // back to the page's keys
  });
  player.addEventListener("play", () => requestAnimationFrame(movePlayhead));
  player.addEventListener("seeking", () => { lastTime = null; }); // a jump is not listening
  player.addEventListener("ended", () => { // a clip shorter than the listening time, heard to its end
    if (items[0] && items[0].reveal_label === "after_listen" && !revealed) reveal();
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
  completeClip();
  prefetch();
  if (!items.length) refreshTally();
})();
