// One stream per browser where the browser allows it: the tabs showing the same board
// elect a leader with a Web Lock; the leader alone reads the stream and passes what it
// reads to the other tabs over a BroadcastChannel. A tab that opens asks the leader for
// the state so far; when the leader's tab closes, its lock goes to another tab, which
// resumes the stream from the last seq it has. Without Web Locks (a page served over
// plain HTTP from a host other than localhost is not a secure context) or without
// BroadcastChannel, each tab reads its own stream.

import { Stream } from "./stream.js";

export class Link {
  // url: the stream's URL; key: what tabs showing the same board share; state(): the
  // tab's floor as {agents, seq, offset, reasonNames, queues}; onItem, onStatus: as
  // Stream's; onState(state): a follower's floor from the leader.
  constructor({ url, key, state, onItem, onStatus, onState }) {
    this.url = url;
    this.key = key;
    this.state = state;
    this.onItem = onItem;
    this.onStatus = onStatus;
    this.onState = onState;
    this.role = "starting";
    this.ready = false; // a follower got the leader's state
    this.stream = null;
    this.channel = null;
    this.lastStatus = null;
  }

  start() {
    const shared = typeof BroadcastChannel === "function" && navigator.locks?.request;
    if (!shared) {
      this._lead();
      return;
    }
    this.channel = new BroadcastChannel(this.key);
    this.channel.onmessage = (event) => this._message(event.data);
    this.role = "follower";
    this.channel.postMessage({ type: "hello" });
    navigator.locks.request(this.key, () => new Promise(() => this._lead()));
  }

  _lead() {
    this.role = "leader";
    const since = this.ready || this.channel === null ? this.state().seq : null;
    this.stream = new Stream(this.url, {
      since,
      onItem: (item) => {
        this.onItem(item);
        this.channel?.postMessage({ type: "item", item });
      },
      onStatus: (status, detail) => {
        this.lastStatus = { status, detail };
        this.onStatus(status, detail);
        this.channel?.postMessage({ type: "status", status, detail });
      },
    });
    this.ready = true;
    this.stream.start();
  }

  _message(message) {
    if (!message || typeof message !== "object") return;
    if (this.role === "leader") {
      if (message.type === "hello") {
        this.channel.postMessage({ type: "state", state: this.state(), status: this.lastStatus });
      }
      return;
    }
    if (message.type === "state") {
      if (message.state.seq === null) return; // the leader has no snapshot yet
      this.ready = true;
      this.onState(message.state);
      if (message.status) this.onStatus(message.status.status, message.status.detail);
    } else if (message.type === "item" && this.ready) {
      this.onItem(message.item);
    } else if (message.type === "item" && message.item.event === "snapshot") {
      this.ready = message.item.data.part === 1; // a whole snapshot from its first part on
      if (this.ready) this.onItem(message.item);
    } else if (message.type === "status") {
      this.onStatus(message.status, message.detail);
    }
  }

  get connections() {
    return this.stream?.connections ?? 0;
  }
}

// A short, stable name for a board (the token is not put in a name as it is).
export function boardKey(parts) {
  let hash = 0x811c9dc5;
  for (const char of parts.join("|")) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `ccms-wallboard-${hash.toString(16)}`;
}
