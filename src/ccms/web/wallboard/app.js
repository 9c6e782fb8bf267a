// The wallboard page: reads its VDN and view token from the URL (#ccId=1&vdn=1&token=...;
// the fragment is never sent to a server), follows the stream and draws the board.

import { Board, showClock } from "./board.js";
import { Floor, clock } from "./floor.js";
import { Link, boardKey } from "./link.js";

const STALE_SILENT_MS = 30000; // no frame nor heartbeat for this long: the board is stale
const STALE_DOWN_MS = 3000; // the connection is down for this long: the board is stale

function parameters() {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of new URLSearchParams(location.hash.slice(1))) params.set(name, value);
  return params;
}

const params = parameters();
const ccId = params.get("ccId") || "1";
const vdn = params.get("vdn") || "";
const token = params.get("token") || "";
const skills = params.get("skills") || "";
const staleSilentMs = Number(params.get("staleAfter")) * 1000 || STALE_SILENT_MS;

const $ = (selector) => document.querySelector(selector);
const floor = new Floor();
const stats = { snapshots: 0, changes: 0, flags: 0, queues: 0, resets: 0, beats: 0, bookmarks: 0, ignored: 0 };
const health = { status: "connecting", lastFrame: null, downSince: null, refused: null };

const storageKey = `ccms-wallboard-view:${ccId}:${vdn}`;
function loadView() {
  const defaults = { skill: "", state: "", flagged: false, search: "", sort: "attention", layout: "auto" };
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(storageKey) || "{}") };
  } catch {
    return defaults;
  }
}
function saveView(view) {
  try {
    localStorage.setItem(storageKey, JSON.stringify(view));
  } catch {
    // private mode: the choices last as long as the page
  }
}

const view = loadView();
if (params.get("theme") === "dark" || params.get("theme") === "light") view.theme = params.get("theme");
if (view.theme) document.documentElement.dataset.theme = view.theme;
const board = new Board(document, floor, view, saveView);
$("#title").textContent = `VDN ${vdn}` + (skills ? ` · queues ${skills}` : "");
document.title = `VDN ${vdn} · ccms wallboard`;

function refuse(message, detail) {
  health.refused = { message, detail };
  const box = $("#message");
  box.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = message;
  const text = document.createElement("p");
  text.textContent = detail;
  box.append(heading, text);
  box.hidden = false;
  $("#live").textContent = "not connected";
  document.body.classList.add("refused");
}

function refusal(envelope) {
  const desc = String(envelope?.resultDesc ?? "");
  const how = `Ask for a new link: ccms wallboard-url ${ccId} ${vdn || "VDN"}.`;
  if (envelope?.status === 403 || envelope?.resultCode === "0101003") {
    return [`This link does not give access to VDN ${vdn}`, `The server said: ${desc}. ${how}`];
  }
  if (envelope?.status === 401 || /token|access key|secret/i.test(desc)) {
    return [`This wallboard link has expired or is not valid`, `The server said: ${desc}. ${how}`];
  }
  return ["The wallboard cannot open this board", `The server said: ${desc || "no answer"}.`];
}

function apply(item) {
  health.lastFrame = Date.now();
  switch (item.event) {
    case "snapshot":
      if (floor.snapshotPart(item.data)) {
        stats.snapshots += 1;
        board.refresh();
      }
      break;
    case "change": {
      const workNo = floor.change(item.data);
      stats.changes += 1;
      if (workNo !== null) board.changed(workNo);
      break;
    }
    case "flag": {
      const workNo = floor.flag(item.data);
      stats.flags += 1;
      if (workNo !== null) board.changed(workNo);
      else stats.ignored += 1;
      break;
    }
    case "queue": // the VDN's queue figures now (no id: they replace the last)
      stats.queues += 1;
      board.queues(item.data);
      break;
    case "reset":
      stats.resets += 1; // a fresh snapshot follows (on this stream, or on the next one)
      break;
    case "beat":
      stats.beats += 1;
      break;
    case "":
      stats.bookmarks += 1;
      break;
    default: // a kind this page does not know: its id moved the cursor, nothing else
      stats.ignored += 1;
  }
  showHealth();
}

function status(state, detail) {
  health.status = state;
  if (state === "live") {
    health.downSince = null;
    health.lastFrame = Date.now();
  } else if (state === "down" && health.downSince === null) {
    health.downSince = Date.now();
  } else if (state === "refused") {
    const [message, text] = refusal(detail);
    refuse(message, text);
  }
  showHealth();
}

// The stale banner: honest about since when the board may be out of date (the last frame
// or heartbeat received), shown after STALE_DOWN_MS without a connection or
// STALE_SILENT_MS without a byte on one.
function showHealth() {
  if (health.refused) return;
  const now = Date.now();
  const silent = health.lastFrame !== null && now - health.lastFrame > staleSilentMs;
  const down = health.downSince !== null && now - health.downSince > STALE_DOWN_MS;
  const stale = floor.seq !== null && (silent || down);
  const banner = $("#stale");
  const live = $("#live");
  document.body.classList.toggle("stale", stale);
  if (stale) {
    const since = clock((health.lastFrame ?? now) + floor.offset);
    const text = `Stale since ${since}: the connection to ccms was lost, reconnecting. ` +
      "Times keep counting but states may have changed.";
    if (banner.hidden || banner.dataset.since !== since) {
      banner.textContent = text;
      banner.dataset.since = since;
    }
    banner.hidden = false;
    setText(live, `stale since ${since}`);
  } else {
    banner.hidden = true;
    const word = health.status === "live" && floor.seq !== null ? "live" :
      health.status === "down" ? "reconnecting" : "connecting";
    setText(live, word);
  }
  live.dataset.state = stale ? "stale" : health.status;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function start() {
  if (!vdn || !token) {
    refuse("This wallboard link is incomplete",
      "It needs a VDN and a view token: print a link with ccms wallboard-url CCID VDN.");
    return null;
  }
  const query = new URLSearchParams({ ccId, vdn, token, queues: "1" });
  if (skills) query.set("skills", skills);
  const url = new URL(`ccms/v1/stream?${query}`, document.baseURI).href;
  const link = new Link({
    url,
    key: boardKey([ccId, vdn, skills, token]),
    state: () => ({
      agents: [...floor.agents.values()], seq: floor.seq, offset: floor.offset,
      reasonNames: floor.reasonNames, queues: board.strip.frame,
    }),
    onItem: apply,
    onStatus: status,
    onState: (state) => {
      floor.replace(state.agents, state.seq, state.offset, state.reasonNames);
      if (state.queues) board.queues(state.queues);
      stats.snapshots += 1;
      board.refresh();
      showHealth();
    },
  });
  link.start();
  return link;
}

const link = start();

function second() {
  board.tick();
  showClock($("#clock"), floor);
  showHealth();
  setTimeout(second, 1000 - (floor.now() % 1000) + 5);
}
second();

// For tests and for the curious; not an API.
window.wallboard = { floor, stats, health, view, link, board };
