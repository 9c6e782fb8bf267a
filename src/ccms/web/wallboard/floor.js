// The floor: the agents as the stream says they are now, and what the board shows of
// them (state groups, counts, order, filters). No DOM here.

// The state groups, in the order of the header and of the "by state" sort; `cti` are the
// CTI statuses (citStatus) of each.
export const STATES = [
  { key: "idle", label: "Idle", cti: [1] },
  { key: "ringing", label: "Ringing", cti: [3, 4] },
  { key: "talking", label: "Talking", cti: [2, 5] },
  { key: "wrapup", label: "Wrap-up", cti: [6, 10] },
  { key: "busy", label: "Busy", cti: [7] },
  { key: "rest", label: "Rest", cti: [8] },
  { key: "study", label: "Study", cti: [9] },
  { key: "signedout", label: "Signed out", cti: [0] },
];

const GROUP_BY_CTI = new Map();
STATES.forEach((state, rank) => {
  for (const code of state.cti) GROUP_BY_CTI.set(code, { ...state, rank });
});
const UNKNOWN = { key: "unknown", label: "Unknown", cti: [], rank: STATES.length };

export function stateOf(agent) {
  return GROUP_BY_CTI.get(agent.citStatus) ?? UNKNOWN;
}

export function signedIn(agent) {
  return agent.citStatus !== 0;
}

// Flags: a list of {name, level, since}; absent or malformed means none.
export function flagsOf(agent) {
  const flags = agent.flags;
  if (!Array.isArray(flags)) return [];
  return flags.filter((flag) => flag && typeof flag.name === "string");
}

export function flagLevel(agent) {
  let level = null;
  for (const flag of flagsOf(agent)) {
    if (flag.level === "alert") return "alert";
    level = "warning";
  }
  return level;
}

const FLAG_NAMES = {
  "ringing-long": "Ringing too long",
  "wrapup-long": "Wrap-up too long",
  "rest-long": "Rest too long",
  "talking-long": "Talking too long",
  "phone-unavailable": "Phone unavailable",
  "talking-no-call": "Talking with no call",
  "no-skill": "Signed in, no skill queue",
};

export function flagLabel(flag) {
  if (FLAG_NAMES[flag.name]) return FLAG_NAMES[flag.name];
  const words = flag.name.replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// A busy or rest agent's reason as the board shows it: the name the VDN gives its code
// (the snapshot's `reasonNames`, from the server's configuration file), else `Reason N`.
// null for an agent in another state or without a reason.
export function reasonLabel(agent, names) {
  const key = stateOf(agent).key;
  if ((key !== "busy" && key !== "rest") || agent.reason == null) return null;
  const name = names?.[key]?.[String(agent.reason)];
  return typeof name === "string" && name ? name : `Reason ${agent.reason}`;
}

export class Floor {
  constructor() {
    this.agents = new Map(); // work number -> agent, as the last snapshot or change says
    this.seq = null; // the stream position the agents are at
    this.offset = 0; // server clock minus this browser's clock, in ms
    this.reasonNames = { busy: {}, rest: {} }; // reason code -> name, by state
    this._parts = [];
  }

  now() {
    return Date.now() + this.offset;
  }

  // A snapshot part; true once the last part made the new state.
  snapshotPart(part) {
    if (part.part === 1) this._parts = [];
    this._parts.push(...(part.agents || []));
    if (part.part !== part.parts) return false;
    this.replace(this._parts, part.seq, part.serverTime - Date.now(), part.reasonNames);
    this._parts = [];
    return true;
  }

  replace(agents, seq, offset, reasonNames) {
    this.agents = new Map(agents.map((agent) => [agent.workNo, agent]));
    this.seq = seq;
    if (Number.isFinite(offset)) this.offset = offset;
    if (reasonNames && typeof reasonNames === "object") {
      this.reasonNames = { busy: reasonNames.busy || {}, rest: reasonNames.rest || {} };
    }
  }

  // A change: the agent is `cur` from now on. Returns its work number.
  change(change) {
    const cur = change.cur;
    const workNo = cur?.workNo ?? change.key?.agentId;
    if (workNo === undefined) return null;
    if (cur) this.agents.set(workNo, cur);
    if (Number.isFinite(change.seq)) this.seq = change.seq;
    return workNo;
  }

  // A flag block, whichever form it takes: a change-like block with `cur`, a block with
  // the agent's whole `flags` list, or one raised / cleared flag. Returns the work number
  // it changed, or null when it cannot tell (the block is then ignored).
  flag(data) {
    if (!data || typeof data !== "object") return null;
    if (data.cur && typeof data.cur === "object") return this.change(data);
    const workNo = data.key?.agentId ?? data.agentId ?? data.workNo;
    const agent = this.agents.get(workNo);
    if (agent === undefined) return null;
    let flags = flagsOf(agent);
    if (Array.isArray(data.flags)) {
      flags = data.flags;
    } else if (data.flag && typeof data.flag.name === "string") {
      const others = flags.filter((flag) => flag.name !== data.flag.name);
      const cleared = data.raised === false || data.cleared === true ||
        data.state === "cleared" || data.action === "cleared" || data.flag.level === null;
      flags = cleared ? others : [...others, data.flag];
    } else {
      return null;
    }
    this.agents.set(workNo, { ...agent, flags });
    if (Number.isFinite(data.seq)) this.seq = data.seq;
    return workNo;
  }

  skills() {
    const all = new Set();
    for (const agent of this.agents.values()) {
      for (const skill of agent.skills || []) all.add(skill);
    }
    return [...all].sort((a, b) => a - b);
  }
}

// The header's counts over `agents`: signed in, each state group, the longest idle.
export function counts(agents, now) {
  const result = { signedIn: 0, longestIdle: null };
  for (const state of STATES) result[state.key] = 0;
  for (const agent of agents) {
    if (!signedIn(agent)) continue;
    result.signedIn += 1;
    const state = stateOf(agent);
    if (state.key in result) result[state.key] += 1;
    if (state.key === "idle" && Number.isFinite(agent.since)) {
      const idle = now - agent.since;
      if (result.longestIdle === null || idle > result.longestIdle) result.longestIdle = idle;
    }
  }
  return result;
}

export const SORTS = {
  attention: "Flagged, state, time",
  state: "State, time",
  time: "Time in state",
  workNo: "Work number",
  name: "Name",
};

const LEVEL_RANK = { alert: 0, warning: 1 };

function byTime(a, b) {
  return (a.since ?? Infinity) - (b.since ?? Infinity) || a.workNo - b.workNo;
}

function byState(a, b) {
  return stateOf(a).rank - stateOf(b).rank || byTime(a, b);
}

function byFlag(a, b) {
  return (LEVEL_RANK[flagLevel(a)] ?? 2) - (LEVEL_RANK[flagLevel(b)] ?? 2);
}

const COMPARE = {
  attention: (a, b) => byFlag(a, b) || byState(a, b),
  state: byState,
  time: byTime,
  workNo: (a, b) => a.workNo - b.workNo,
  name: (a, b) => (a.name || "").localeCompare(b.name || "") || a.workNo - b.workNo,
};

// The agents the board shows, in its order. `view`: {skill, state, flagged, search, sort}.
export function visible(agents, view) {
  const search = (view.search || "").trim().toLowerCase();
  const skill = view.skill === "" || view.skill == null ? null : Number(view.skill);
  const shown = [];
  for (const agent of agents) {
    const state = stateOf(agent);
    if (view.state ? state.key !== view.state : state.key === "signedout") continue;
    if (skill !== null && !(agent.skills || []).includes(skill)) continue;
    if (view.flagged && flagLevel(agent) === null) continue;
    if (search && !String(agent.workNo).includes(search) &&
        !(agent.name || "").toLowerCase().includes(search)) continue;
    shown.push(agent);
  }
  return shown.sort(COMPARE[view.sort] || COMPARE.attention);
}

export function inSkill(agents, skill) {
  if (skill === "" || skill == null) return agents;
  const wanted = Number(skill);
  return agents.filter((agent) => (agent.skills || []).includes(wanted));
}

// 754 s -> "12:34", 3754 s -> "1:02:34"
export function duration(ms) {
  if (!Number.isFinite(ms)) return "";
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function clock(ms) {
  const date = new Date(ms);
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((part) => String(part).padStart(2, "0")).join(":");
}
