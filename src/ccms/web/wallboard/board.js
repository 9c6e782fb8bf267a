// What the supervisor sees: the header's counts, the tiles, the controls. Changes are
// drawn together, at most every DRAW_EVERY_MS, in an animation frame (a burst of changes
// costs one sort and one layout: a floor of 500 agents at 50 changes a second would
// otherwise sort and lay out 500 tiles 50 times a second); the times in state tick once a
// second on the server's clock (Floor.now()).

import {
  STATES, SORTS, clock, counts, duration, flagLabel, flagLevel, flagsOf, inSkill,
  reasonLabel, stateOf, visible,
} from "./floor.js";
import { icon } from "./icons.js";
import { QueueStrip } from "./queues.js";

const DENSE_ABOVE = 60; // agents shown: above it, "auto" lays the tiles out dense
const DRAW_EVERY_MS = 250; // at most four draws a second; a change waits 250 ms at most
const HEADER_STATES = STATES.filter((state) => state.key !== "signedout");

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Board {
  constructor(root, floor, view, save) {
    this.root = root;
    this.floor = floor;
    this.view = view; // {skill, state, flagged, search, sort, layout}
    this.save = save;
    this.tiles = new Map(); // work number -> tile
    this.shown = []; // the tiles in the board's order
    this.dirty = new Set();
    this.all = false;
    this.frame = 0;
    this.timer = 0;
    this.drawnAt = -Infinity; // performance.now() of the last draw
    this.laidOut = ""; // the count, size and layout the tiles were last sized for
    this.list = root.querySelector("#tiles");
    this.countsList = root.querySelector("#counts");
    this.heading = root.querySelector("#tiles-heading");
    this.focused = null; // the work number of the tile that takes the Tab stop
    this.strip = new QueueStrip(root.querySelector("#queue-strip"));
    this._controls();
    this._counts();
    this._keyboard();
    window.addEventListener("resize", () => this.refresh());
  }

  // -- changes -------------------------------------------------------------------------

  changed(workNo) {
    this.dirty.add(workNo);
    this._schedule();
  }

  // The stream's newest queue figures (an `event: queue`).
  queues(frame) {
    this.strip.show(frame);
    this.strip.draw(this.view.skill, this.floor.now());
  }

  refresh() {
    this.all = true;
    this._schedule(true); // the supervisor's own action (a filter, a resize): at once
  }

  _schedule(now = false) {
    if (now && this.timer) {
      clearTimeout(this.timer);
      this.timer = 0;
    }
    if (this.frame || this.timer) return;
    const wait = now ? 0 : this.drawnAt + DRAW_EVERY_MS - performance.now();
    if (wait <= 0) {
      this.frame = requestAnimationFrame(() => this.draw());
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.frame = requestAnimationFrame(() => this.draw());
    }, wait);
  }

  draw() {
    this.frame = 0;
    this.drawnAt = performance.now();
    const floor = this.floor;
    if (this.all) {
      this.laidOut = ""; // a redraw of everything sizes the tiles again
      this._skillOptions();
      for (const workNo of this.tiles.keys()) {
        if (!floor.agents.has(workNo)) {
          this.tiles.get(workNo).li.remove();
          this.tiles.delete(workNo);
        }
      }
      for (const workNo of floor.agents.keys()) this.dirty.add(workNo);
    }
    for (const workNo of this.dirty) {
      const agent = floor.agents.get(workNo);
      if (agent !== undefined) this._tile(workNo).update(agent, floor.reasonNames);
    }
    this.dirty.clear();
    this.all = false;
    const agents = [...floor.agents.values()];
    const order = visible(agents, this.view);
    this.shown = order.map((agent) => this.tiles.get(agent.workNo));
    this._order();
    this._layout(order.length);
    this._showCounts(inSkill(agents, this.view.skill));
    this.strip.draw(this.view.skill, floor.now());
    this.heading.textContent = `Agents: ${order.length} shown`;
    this.tick();
  }

  _tile(workNo) {
    let tile = this.tiles.get(workNo);
    if (tile === undefined) {
      tile = new Tile(workNo);
      this.tiles.set(workNo, tile);
    }
    return tile;
  }

  _order() {
    const list = this.list;
    const nodes = this.shown.map((tile) => tile.li);
    const wanted = new Set(nodes);
    for (const child of [...list.children]) {
      if (!wanted.has(child)) child.remove();
    }
    for (let i = 0; i < nodes.length; i += 1) {
      if (list.children[i] !== nodes[i]) list.insertBefore(nodes[i], list.children[i] || null);
    }
    let stop = this.shown.find((tile) => tile.workNo === this.focused) || this.shown[0];
    for (const tile of this.shown) tile.li.tabIndex = tile === stop ? 0 : -1;
  }

  _layout(count) {
    const layout = this.view.layout || "auto";
    // sized again only when what the size depends on changed (reading the window's
    // geometry forces a layout of every tile)
    const stale = document.body.classList.contains("stale"); // its banner takes room
    const key = `${count}:${layout}:${stale}:${window.innerWidth}x${window.innerHeight}`;
    if (key === this.laidOut) return;
    this.laidOut = key;
    const dense = layout === "dense" || (layout === "auto" && count > DENSE_ABOVE);
    document.body.classList.toggle("dense", dense);
    const list = this.list;
    if (!dense || count === 0) {
      list.style.removeProperty("--cols");
      list.style.removeProperty("--tile-h");
      return;
    }
    // the largest tiles (about 2.6 wide for 1 high) that fit the window without scrolling
    const width = list.clientWidth;
    const height = window.innerHeight - list.getBoundingClientRect().top - 8;
    const gap = 3;
    let best = { cols: 1, tileH: 0 };
    for (let cols = 1; cols <= count; cols += 1) {
      const rows = Math.ceil(count / cols);
      const tileW = (width - gap * (cols - 1)) / cols;
      const tileH = Math.min((height - gap * (rows - 1)) / rows, tileW / 2.6);
      if (tileH > best.tileH) best = { cols, tileH };
    }
    list.style.setProperty("--cols", String(best.cols));
    list.style.setProperty("--tile-h", `${Math.max(22, Math.floor(best.tileH))}px`);
  }

  // -- time ----------------------------------------------------------------------------

  tick() {
    const now = this.floor.now();
    for (const tile of this.shown) tile.tick(now);
    this.strip.tick(this.view.skill, now);
    const idle = this.countsList.querySelector('[data-state="idle"] .count-extra');
    if (idle && this.longestIdleSince !== undefined) {
      idle.textContent = this.longestIdleSince === null ? "" : `longest ${duration(now - this.longestIdleSince)}`;
    }
  }

  // -- the header ----------------------------------------------------------------------

  _counts() {
    const list = this.countsList;
    this.countItems = {};
    const add = (key, label) => {
      const item = element("li", `count c-${key}`);
      item.dataset.state = key;
      const value = element("span", "count-value", "0");
      const share = element("span", "count-share", "");
      item.append(element("span", "count-label", label), " ", value, " ", share);
      if (key === "idle") item.append(" ", element("span", "count-extra", ""));
      list.append(item);
      this.countItems[key] = { value, share };
    };
    add("signedin", "Signed in");
    for (const state of HEADER_STATES) add(state.key, state.label);
  }

  _showCounts(agents) {
    const now = this.floor.now();
    const result = counts(agents, now);
    this.longestIdleSince = result.longestIdle === null ? null : now - result.longestIdle;
    this.countItems.signedin.value.textContent = String(result.signedIn);
    for (const state of HEADER_STATES) {
      const { value, share } = this.countItems[state.key];
      const count = result[state.key];
      value.textContent = String(count);
      share.textContent = result.signedIn ? `${Math.round((100 * count) / result.signedIn)}%` : "";
    }
  }

  // -- the controls --------------------------------------------------------------------

  _controls() {
    const root = this.root;
    const view = this.view;
    this.skill = root.querySelector("#skill");
    const state = root.querySelector("#state");
    for (const s of STATES) state.append(new Option(s.label, s.key));
    const sort = root.querySelector("#sort");
    for (const [key, label] of Object.entries(SORTS)) sort.append(new Option(label, key));
    const bind = (selector, key, read = (node) => node.value, event = "change") => {
      const node = root.querySelector(selector);
      if (node.type === "checkbox") node.checked = Boolean(view[key]);
      else node.value = view[key] ?? "";
      node.addEventListener(event, () => {
        view[key] = read(node);
        this.save(view);
        this.refresh();
      });
    };
    bind("#state", "state");
    bind("#sort", "sort");
    bind("#layout", "layout");
    bind("#flagged", "flagged", (node) => node.checked);
    bind("#search", "search", (node) => node.value, "input");
    bind("#skill", "skill");
    const theme = root.querySelector("#theme");
    theme.addEventListener("click", () => {
      const dark = document.documentElement.dataset.theme
        ? document.documentElement.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      document.documentElement.dataset.theme = dark ? "light" : "dark";
      view.theme = document.documentElement.dataset.theme;
      this.save(view);
    });
  }

  _skillOptions() {
    const select = this.skill;
    const skills = this.floor.skills();
    const have = [...select.options].slice(1).map((option) => Number(option.value));
    if (have.length === skills.length && have.every((skill, i) => skill === skills[i])) return;
    const chosen = this.view.skill ?? "";
    select.replaceChildren(new Option("All", ""));
    for (const skill of skills) select.append(new Option(`Queue ${skill}`, String(skill)));
    select.value = chosen;
    if (select.value !== String(chosen)) select.value = "";
  }

  // -- the keyboard: one Tab stop in the tiles, arrows move between them ----------------

  _keyboard() {
    this.list.addEventListener("keydown", (event) => {
      const index = this.shown.findIndex((tile) => tile.li === document.activeElement);
      if (index < 0) return;
      const cols = this._columns();
      const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols,
        Home: -index, End: this.shown.length - 1 - index };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const next = this.shown[Math.max(0, Math.min(this.shown.length - 1, index + moves[event.key]))];
      this._focus(next);
    });
    this.list.addEventListener("focusin", (event) => {
      const tile = this.shown.find((t) => t.li === event.target);
      if (tile) this._focus(tile, false);
    });
  }

  _focus(tile, move = true) {
    for (const other of this.shown) other.li.tabIndex = other === tile ? 0 : -1;
    this.focused = tile.workNo;
    if (move) tile.li.focus();
  }

  _columns() {
    const first = this.shown[0]?.li.offsetTop;
    let cols = 0;
    while (cols < this.shown.length && this.shown[cols].li.offsetTop === first) cols += 1;
    return Math.max(1, cols);
  }
}

// One agent's tile: real text (a screen reader reads it as it is shown), the state in
// colour, icon and word, the time in state, the reason's name, the calls and the flags.
class Tile {
  constructor(workNo) {
    this.workNo = workNo;
    this.li = element("li", "tile");
    this.li.dataset.work = String(workNo);
    const top = element("div", "tile-top");
    this.iconSlot = element("span", "tile-icon");
    this.stateText = element("span", "tile-state");
    this.time = element("span", "tile-time");
    top.append(this.iconSlot, this.stateText, this.time);
    const who = element("div", "tile-who");
    this.name = element("span", "tile-name");
    this.work = element("span", "tile-work", String(workNo));
    who.append(this.name, " ", this.work);
    this.detail = element("div", "tile-detail");
    this.flags = element("ul", "tile-flags");
    this.li.append(top, who, this.detail, this.flags);
    this.stateKey = null;
    this.since = null;
    this.flagKey = "";
  }

  update(agent, reasonNames) {
    const state = stateOf(agent);
    if (state.key !== this.stateKey) {
      this.li.classList.remove(`s-${this.stateKey}`);
      this.li.classList.add(`s-${state.key}`);
      this.iconSlot.replaceChildren(icon(state.key));
      this.stateText.textContent = state.label;
      this.stateKey = state.key;
    }
    this.since = Number.isFinite(agent.since) ? agent.since : null;
    this.name.textContent = agent.name || `Agent ${agent.workNo}`;
    const details = [];
    const reason = reasonLabel(agent, reasonNames);
    if (reason !== null) details.push(reason);
    const calls = (agent.calls || []).length;
    if (calls) details.push(calls === 1 ? "1 call" : `${calls} calls`);
    this.detail.textContent = details.join(" · ");
    const flags = flagsOf(agent);
    const key = flags.map((flag) => `${flag.name}:${flag.level}`).join(",");
    if (key !== this.flagKey) {
      this.flagKey = key;
      const level = flagLevel(agent);
      this.li.classList.toggle("f-alert", level === "alert");
      this.li.classList.toggle("f-warning", level === "warning");
      this.flags.replaceChildren(...flags.map((flag) => {
        const item = element("li", `flag flag-${flag.level === "alert" ? "alert" : "warning"}`);
        item.dataset.flag = flag.name;
        const word = flag.level === "alert" ? "Alert" : "Warning";
        item.append(icon(flag.level === "alert" ? "alert" : "warning"),
          element("span", "sr-only", `${word}: `), flagLabel(flag));
        return item;
      }));
    }
  }

  tick(now) {
    const text = this.since === null ? "" : duration(now - this.since);
    if (this.time.textContent !== text) this.time.textContent = text;
  }
}

export function showClock(node, floor) {
  node.textContent = clock(floor.now());
}
