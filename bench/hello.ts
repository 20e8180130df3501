// A bare Deno.serve hello world: the baseline the benchmark compares Parley's throughput with.
Deno.serve({
  port: Number(Deno.env.get("PORT") ?? "8000"),
  hostname: Deno.env.get("HOSTNAME") ?? "127.0.0.1",
  onListen: () => {},
}, () => new Response("Hello, world!"));
