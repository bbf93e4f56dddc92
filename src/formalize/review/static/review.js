// formalize review: keyboard labelling on the problem page, the annotator field.
// Labels go to the corpus through POST /api/labels; nothing is kept in the browser but the
// annotator's name (a cookie the server reads to know who is labelling).
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="formalize-csrf"]').content;

  function status(text, kind) {
    const box = document.getElementById("status");
    box.textContent = text;
    box.className = kind || "";
    if (text) {
      window.clearTimeout(status.timer);
      status.timer = window.setTimeout(() => { box.textContent = ""; box.className = ""; }, 4000);
    }
  }

  // ------------------------------------------------------------------ annotator

  const who = document.getElementById("annotator");
  function annotator() {
    return who ? who.value.trim() : "";
  }
  if (who) {
    who.addEventListener("change", () => {
      const name = annotator();
      document.cookie = "formalize_annotator=" + encodeURIComponent(name) +
        "; path=/; SameSite=Strict; max-age=31536000";
      status(name ? "labelling as " + name : "annotator cleared", "ok");
    });
    who.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === "Escape") { who.blur(); }
    });
  }

  function typing(event) {
    const target = event.target;
    return !!target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  // a: the next item of the audit queue, from any page
  document.addEventListener("keydown", (event) => {
    if (event.key !== "a" || event.ctrlKey || event.metaKey || event.altKey || typing(event)) {
      return;
    }
    event.preventDefault();
    window.location.href = "/audit/next";
  });

  // ------------------------------------------------------------------ problem page

  const page = document.querySelector("main.problem-page");
  if (!page) { return; }
  const cards = Array.from(document.querySelectorAll("article.attempt[data-attempt-id]"));
  let current = cards.findIndex((c) => c.dataset.attemptId === page.dataset.selected);
  if (current < 0 && cards.length) { current = 0; }

  function select(index, scroll) {
    if (index < 0 || index >= cards.length) { return; }
    cards.forEach((c) => c.classList.remove("selected"));
    current = index;
    const card = cards[current];
    card.classList.add("selected");
    if (scroll) {
      card.scrollIntoView({ block: "nearest" });
      history.replaceState(null, "", "#a" + card.dataset.attemptId);
    }
  }

  function renderLabels(card, labels) {
    const list = card.querySelector(".label-list");
    list.replaceChildren();
    for (const lab of labels) {
      const item = document.createElement("li");
      item.className = "lb-" + lab.label;
      const name = document.createElement("strong");
      name.textContent = lab.annotator;
      item.append(name, ": " + lab.label + (lab.error_type ? " (" + lab.error_type + ")" : ""));
      if (lab.note) {
        const note = document.createElement("span");
        note.className = "note";
        note.textContent = lab.note;
        item.append(" · ", note);
      }
      list.append(item);
    }
    const mine = labels.find((lab) => lab.annotator === annotator());
    card.dataset.myLabel = mine ? mine.label : "";
    card.dataset.myError = mine && mine.error_type ? mine.error_type : "";
    card.querySelectorAll("button.et").forEach((b) => {
      b.classList.toggle("chosen", !!mine && b.dataset.errorType === mine.error_type);
    });
  }

  async function save(card, label, errorType) {
    if (!annotator()) {
      status("type your name in the annotator field first", "error");
      who.focus();
      return;
    }
    const body = {
      attempt_id: Number(card.dataset.attemptId),
      lean_sha: card.dataset.leanSha,
      label: label,
      error_type: errorType || null,
      note: card.querySelector("input.note").value,
      annotator: annotator(),
    };
    let answer;
    try {
      const response = await fetch("/api/labels", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Formalize-CSRF": csrf },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      answer = await response.json();
      if (!response.ok) {
        status("not saved: " + (answer.error || response.status), "error");
        return;
      }
    } catch (err) {
      status("not saved: " + err, "error");
      return;
    }
    renderLabels(card, answer.labels);
    card.classList.add("saved");
    status("saved: " + label + (errorType ? " (" + errorType + ")" : "") + " by " + body.annotator, "ok");
  }

  cards.forEach((card, index) => {
    card.addEventListener("click", (event) => {
      if (!event.target.closest("a, summary, input")) { select(index, false); }
    });
    card.querySelectorAll("button[data-label]").forEach((button) => {
      button.addEventListener("click", () => {
        select(index, false);
        save(card, button.dataset.label, button.dataset.errorType);
      });
    });
    const note = card.querySelector("input.note");
    note.addEventListener("focus", () => select(index, false));
    note.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { note.blur(); event.preventDefault(); }
      if (event.key === "Enter") {
        event.preventDefault();
        if (card.dataset.myLabel) {
          save(card, card.dataset.myLabel, card.dataset.myError);
        } else {
          status("the note goes with the label: press f, u or 1-7", "");
        }
        note.blur();
      }
    });
  });

  const errorKeys = {};
  document.querySelectorAll("button.et").forEach((b) => {
    errorKeys[b.dataset.key] = b.dataset.errorType;
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    const card = cards[current];
    const key = event.key;
    if (key === "j") { select(current + 1, true); }
    else if (key === "k") { select(current - 1, true); }
    else if (!card) { return; }
    else if (key === "f") { save(card, "faithful", null); }
    else if (key === "u") { save(card, "unfaithful", null); }
    else if (errorKeys[key]) { save(card, "unfaithful", errorKeys[key]); }
    else if (key === "n") { card.querySelector("input.note").focus(); }
    else { return; }
    event.preventDefault();
  });

  if (current >= 0) { select(current, !!page.dataset.selected); }
})();
