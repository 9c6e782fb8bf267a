// The queue strip (docs/wallboard.md): the VDN's calls waiting, the longest wait, the
// service level and the abandoned calls of the current 5 minutes, from the stream's
// `queue` events (queues=1). Shown only once the store has call data for the VDN (the
// server sends no figures before). The longest wait ticks on the server's clock, warned
// from WAIT_WARN_MS and alerted from WAIT_ALERT_MS, with a word and an icon, not colour
// alone.

import { duration } from "./floor.js";
import { icon } from "./icons.js";

export const WAIT_WARN_MS = 60_000;
export const WAIT_ALERT_MS = 120_000;

// The figures of the queues the board shows: every queue, or the one selected.
export function queueFigures(frame, skill, now) {
  if (!frame || !Array.isArray(frame.queues)) return null;
  const wanted = skill === "" || skill == null ? null : Number(skill);
  const queues = frame.queues.filter((q) => wanted === null || q.skillId === wanted);
  let waiting = 0, answered = 0, inLevel = 0, abandoned = 0, since = null;
  for (const q of queues) {
    waiting += q.waiting || 0;
    answered += q.answered || 0;
    inLevel += q.answeredInServiceLevel || 0;
    abandoned += q.abandoned || 0;
    if (Number.isFinite(q.longestWaitSince) && (since === null || q.longestWaitSince < since)) {
      since = q.longestWaitSince;
    }
  }
  const offered = answered + abandoned;
  return {
    waiting,
    longestMs: since === null ? null : Math.max(0, now - since),
    serviceLevel: offered ? Math.round((100 * inLevel) / offered) : null,
    serviceLevelS: frame.serviceLevelS,
    abandoned,
  };
}

export function waitLevel(ms) {
  if (ms === null) return "";
  if (ms >= WAIT_ALERT_MS) return "alert";
  return ms >= WAIT_WARN_MS ? "warning" : "";
}

function item(key, label) {
  const li = document.createElement("li");
  li.className = `count q-${key}`;
  li.dataset.queue = key;
  const name = document.createElement("span");
  name.className = "count-label";
  name.textContent = label;
  const value = document.createElement("span");
  value.className = "count-value";
  li.append(name, " ", value);
  return { li, value };
}

export class QueueStrip {
  constructor(section) {
    this.section = section;
    this.list = section.querySelector("#queues");
    this.frame = null;
    this.items = {
      waiting: item("waiting", "Waiting"),
      longest: item("longest", "Longest wait"),
      level: item("level", "Service level"),
      abandoned: item("abandoned", "Abandoned"),
    };
    this.level = "";
    this.list.append(...Object.values(this.items).map((entry) => entry.li));
  }

  show(frame) {
    this.frame = frame;
  }

  draw(skill, now) {
    const figures = queueFigures(this.frame, skill, now);
    this.section.hidden = figures === null;
    if (figures === null) return;
    const { waiting, longest, level, abandoned } = this.items;
    setText(waiting.value, String(figures.waiting));
    setText(abandoned.value, String(figures.abandoned));
    const label = `SL ${figures.serviceLevelS} s`;
    setText(level.li.firstChild, label);
    setText(level.value, figures.serviceLevel === null ? "–" : `${figures.serviceLevel}%`);
    this.tick(skill, now);
  }

  tick(skill, now) {
    const figures = queueFigures(this.frame, skill, now);
    if (figures === null) return;
    const { longest } = this.items;
    const text = figures.longestMs === null ? "–" : duration(figures.longestMs);
    setText(longest.value, text);
    const level = waitLevel(figures.longestMs);
    if (level !== this.level) {
      this.level = level;
      longest.li.classList.toggle("q-warning", level === "warning");
      longest.li.classList.toggle("q-alert", level === "alert");
      longest.li.querySelector(".icon")?.remove();
      longest.li.querySelector(".sr-only")?.remove();
      if (level) {
        const word = document.createElement("span");
        word.className = "sr-only";
        word.textContent = level === "alert" ? "Alert: " : "Warning: ";
        longest.li.prepend(icon(level), word);
      }
    }
  }
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}
