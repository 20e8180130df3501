// Browser boot script: finds island markers, imports their bundles and hydrates them.
import { h, hydrate } from "preact";
import { signal } from "@preact/signals";

type IslandModule = Record<string, unknown>;

function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === "object" && "$signal" in value) {
    return signal((value as { $signal: unknown }).$signal);
  }
  return value;
}

/** Hydrates every island on the page from the bundle URLs listed in `#__islands`. */
async function boot(): Promise<void> {
  const map = document.getElementById("__islands");
  if (!map) return;
  const urls = JSON.parse(map.textContent ?? "{}") as Record<string, string>;
  const modules = new Map<string, Promise<IslandModule>>();
  for (const root of document.querySelectorAll("island-root")) {
    const name = root.getAttribute("data-island") ?? "";
    const [file, exportName] = name.split("#");
    const url = urls[file];
    if (!url) {
      console.error(`No bundle for island ${name}`);
      continue;
    }
    if (!modules.has(url)) modules.set(url, import(url));
    const module = await modules.get(url)!;
    const component = module[exportName] as Parameters<typeof h>[0];
    const propsScript = root.firstElementChild;
    const props = JSON.parse(propsScript?.textContent ?? "{}", revive);
    // Hydrate into a fragment of the marker's children after the props script.
    const container = root as unknown as Element;
    propsScript?.remove();
    hydrate(h(component, props), container);
  }
}

boot();
