// The benchmark's baseline: a bare Deno.serve hello-world on the port given as the first argument.
Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen: () => console.log("ready") },
  () => new Response("hello"),
);
