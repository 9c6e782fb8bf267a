// The live stream (GET ccms/v1/stream with a view token), read with fetch rather than
// EventSource: EventSource hides the heartbeats (SSE comments) the stale banner needs, the
// id-only bookmarks, and the HTTP status and envelope of a refused token.
//
// A Stream hands its owner `item`s: {event, data, id} for each block (event "" for an
// id-only bookmark), {event: "beat"} for a heartbeat, and `status` changes: "connecting",
// "live", "down" (with the error), "refused" (with the envelope: do not retry).

const IDLE_LIMIT_MS = 45000; // no byte for three heartbeats: the connection is dead
const MAX_BACKOFF_MS = 30000;

export class Stream {
  constructor(url, { onItem, onStatus, since = null }) {
    this.url = url;
    this.onItem = onItem;
    this.onStatus = onStatus;
    this.lastId = since === null ? null : String(since);
    this.retryMs = 2000;
    this.attempt = 0;
    this.stopped = false;
    this.controller = null;
    this.connections = 0;
  }

  start() {
    this._run();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  // The cursor given to the next connection: after a reset without a snapshot yet, none.
  forget() {
    this.lastId = null;
  }

  async _run() {
    while (!this.stopped) {
      const outcome = await this._connect();
      if (this.stopped || outcome === "refused") return;
      this.attempt += 1;
      const ceiling = Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** Math.min(this.attempt - 1, 4));
      const wait = this.attempt === 1 ? this.retryMs : this.retryMs + Math.random() * (ceiling - this.retryMs);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async _connect() {
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: "text/event-stream" };
    if (this.lastId !== null) headers["Last-Event-ID"] = this.lastId;
    this.onStatus("connecting");
    let response;
    try {
      response = await fetch(this.url, { headers, signal: controller.signal, cache: "no-store" });
    } catch (error) {
      this.onStatus("down", { error: String(error) });
      return "down";
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("text/event-stream")) {
      let answer = null;
      try {
        answer = await response.json();
      } catch {
        answer = null;
      }
      const envelope = { status: response.status, resultCode: answer?.resultCode,
        resultDesc: answer?.resultDesc ?? response.statusText };
      // a refusal in the envelope (a scope is refused with HTTP 200 and 0101003)
      if ([200, 400, 401, 403, 404].includes(response.status)) {
        this.onStatus("refused", envelope);
        return "refused";
      }
      const after = Number(response.headers.get("Retry-After"));
      if (Number.isFinite(after) && after > 0) this.retryMs = Math.max(this.retryMs, after * 1000);
      this.onStatus("down", { error: `HTTP ${response.status}: ${envelope.resultDesc}` });
      return "down";
    }
    this.connections += 1;
    this.attempt = 0;
    this.onStatus("live");
    return this._read(response, controller);
  }

  async _read(response, controller) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let block = { event: "", data: [], id: null };
    let watchdog = setTimeout(() => controller.abort(), IDLE_LIMIT_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), IDLE_LIMIT_MS);
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n")) >= 0) {
          let line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (line.endsWith("\r")) line = line.slice(0, -1);
          if (line === "") {
            const outcome = this._dispatch(block);
            block = { event: "", data: [], id: null };
            if (outcome === "refused") return "refused";
            continue;
          }
          if (line.startsWith(":")) {
            this.onItem({ event: "beat" });
            continue;
          }
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? "" : line.slice(colon + 1);
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "event") block.event = text;
          else if (field === "data") block.data.push(text);
          else if (field === "id" && !text.includes("\0")) block.id = text;
          else if (field === "retry" && /^\d+$/.test(text)) this.retryMs = Number(text);
        }
      }
      this.onStatus("down", { error: "the server closed the stream" });
    } catch (error) {
      if (!this.stopped) this.onStatus("down", { error: String(error) });
    } finally {
      clearTimeout(watchdog);
      controller.abort();
    }
    return "down";
  }

  _dispatch(block) {
    if (block.id !== null) this.lastId = block.id;
    if (block.data.length === 0) {
      if (block.id !== null) this.onItem({ event: "", data: null, id: block.id });
      return "";
    }
    let data;
    try {
      data = JSON.parse(block.data.join("\n"));
    } catch {
      console.warn("wallboard: a stream block that is not JSON was ignored", block.event);
      return "";
    }
    const event = block.event || "message";
    if (event === "error") {
      this.stop();
      this.onStatus("refused", data);
      return "refused";
    }
    if (event === "reset") this.forget();
    this.onItem({ event, data, id: block.id });
    return "";
  }
}
