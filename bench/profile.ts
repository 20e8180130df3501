// CPU profiles of a server started with --inspect, over the DevTools protocol, and their summary.

/** A V8 CPU profile (the `.cpuprofile` format DevTools opens). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools-protocol connection to one process's inspector, for CPU profiles. */
export class Profiler {
  #socket: WebSocket;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      const waiting = this.#pending.get(message.id);
      if (!waiting) return;
      this.#pending.delete(message.id);
      if (message.error) waiting.reject(new Error(JSON.stringify(message.error)));
      else waiting.resolve(message.result);
    };
  }

  /** Connects to the inspector listening on 127.0.0.1:`port`. */
  static async connect(port: number): Promise<Profiler> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
      webSocketDebuggerUrl: string;
    }[];
    if (!targets[0]) throw new Error(`No inspector target on port ${port}`);
    const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error(`Cannot connect to the inspector on ${port}`));
    });
    const profiler = new Profiler(socket);
    await profiler.#call("Profiler.enable");
    await profiler.#call("Profiler.setSamplingInterval", { interval: 200 });
    return profiler;
  }

  #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling. */
  async start(): Promise<void> {
    await this.#call("Profiler.start");
  }

  /** Stops sampling and returns the profile. */
  async stop(): Promise<CpuProfile> {
    const result = await this.#call("Profiler.stop") as { profile: CpuProfile };
    return result.profile;
  }

  /** The V8 heap after a full garbage collection: MB of live objects and MB reserved. */
  async heapUsage(): Promise<{ usedMb: number; totalMb: number }> {
    await this.#call("HeapProfiler.collectGarbage");
    const heap = await this.#call("Runtime.getHeapUsage") as {
      usedSize: number;
      totalSize: number;
    };
    return { usedMb: heap.usedSize / 2 ** 20, totalMb: heap.totalSize / 2 ** 20 };
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.close();
  }
}

/** A readable place for a script URL: project-relative path, `npm:package/…`, or `ext:…`. */
function place(url: string, root: string): string {
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)$/
    .exec(url);
  if (npm) return `npm:${npm[1]}/${npm[2]}`;
  if (url.startsWith(root)) return url.slice(root.length);
  return url;
}

/** What part of the system a place belongs to: a project folder, an npm package, Deno, V8. */
function area(placeName: string, functionName: string): string {
  if (placeName === "") return functionName; // (program), (garbage collector), (idle)…
  if (placeName.startsWith("npm:")) return placeName.split("/").slice(0, 1).join("/");
  if (placeName.startsWith("ext:") || placeName.startsWith("node:")) {
    return "deno runtime (" + placeName.split("/")[0] + ")";
  }
  return placeName;
}

function table(title: string, rows: [string, number][], total: number, top: number): string[] {
  const lines = [`  ${title}`];
  for (const [name, us] of rows.sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = (100 * us / total).toFixed(1).padStart(5);
    lines.push(`    ${share} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
  return lines;
}

/**
 * Summarizes a profile: time by area (project file, npm package, runtime, GC, idle), the
 * functions with the most self time, and the project's functions with the most total time.
 */
export function summarizeProfile(profile: CpuProfile, root: string, top = 12): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const label = (id: number) => {
    const frame = byId.get(id)!.callFrame;
    const where = place(frame.url, root);
    const name = frame.functionName || "(anonymous)";
    return where ? `${name}  ${where}:${frame.lineNumber + 1}` : name;
  };
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (us <= 0) continue;
    total += us;
    const id = profile.samples[i];
    const frame = byId.get(id)!.callFrame;
    const key = label(id);
    self.set(key, (self.get(key) ?? 0) + us);
    const areaName = area(place(frame.url, root), frame.functionName);
    areas.set(areaName, (areas.get(areaName) ?? 0) + us);
    const counted = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)!;
      const where = place(node.callFrame.url, root);
      if (where === "" || (where.includes(":") && !where.startsWith("npm:"))) continue;
      const name = label(at);
      if (counted.has(name)) continue;
      counted.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  if (total === 0) return ["  (no samples)"];
  return [
    `  ${(total / 1000).toFixed(0)} ms sampled`,
    ...table("Self time by area", [...areas], total, top),
    ...table("Self time by function", [...self], total, top),
    ...table("Total time (with callees): project and npm functions", [...inclusive], total, top),
  ];
}
