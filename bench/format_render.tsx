// Times the render of 50 formatted messages (the room page's history) to HTML, without a server:
// `deno run -A bench/format_render.tsx`. First render (parse + render) and later ones (cached parse).
import { renderToString } from "preact-render-to-string";
import { MessageBody } from "../components/message_body.tsx";

const bodies = Array.from(
  { length: 50 },
  (_, i) =>
    `**Release ${i}** is _ready_ ~~maybe~~ 🎉 see \`deno task build\` and https://example.com/${i}\n` +
    `> quoted ${i}\n\n- one\n- two\n\n\`\`\`ts\nconst n = ${i};\n\`\`\`\n[the docs](https://example.com/d${i})`,
);
const plain = bodies.map((_, i) => `plain message number ${i} with a few words in it`);

function time(list: string[]): number {
  const start = performance.now();
  renderToString(
    <ol>
      {list.map((body, i) => (
        <li key={i}>
          <MessageBody body={body} />
        </li>
      ))}
    </ol>,
  );
  return performance.now() - start;
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < 20; i++) time(bodies.map((b) => b + " warm" + i));
const first = [], cached = [], plainTimes = [];
for (let run = 0; run < 50; run++) {
  first.push(time(bodies.map((b) => `${b} run${run}`)));
  cached.push(time(bodies));
  plainTimes.push(time(plain));
}
console.log(
  `50 formatted messages: first render ${median(first).toFixed(2)} ms, cached parse ${
    median(cached).toFixed(2)
  } ms; 50 plain messages ${median(plainTimes).toFixed(2)} ms (medians of 50 runs)`,
);
