// Server-side island rendering: wraps island components in a marker with their serialized props.
import {
  type ComponentChild,
  type ComponentType,
  createContext,
  h,
  options,
  type VNode,
} from "preact";
import { useContext } from "preact/hooks";
import { Signal } from "@preact/signals";

/** The custom element that marks an island in server-rendered HTML. */
export const ISLAND_TAG = "island-root";

const islandNames = new Map<ComponentType, string>();
const InsideIsland = createContext(false);
let rendered = new Set<string>();
// Set while IslandMarker creates the island's own vnode, which must not be wrapped again.
let creatingInner = false;

/** The island files rendered since the last call (rendering is synchronous, so per page). */
export function takeRenderedIslands(): Set<string> {
  const taken = rendered;
  rendered = new Set();
  return taken;
}

/** Registers a component as an island so that every render of it carries a hydration marker. */
export function registerIsland(
  // deno-lint-ignore no-explicit-any
  component: ComponentType<any>,
  name: string,
): void {
  islandNames.set(component, name);
}

/**
 * Serializes island props to JSON that is safe inside a `<script>` element:
 * signals become `{"$signal": value}`, functions are refused, and `<`, `>`, `&`,
 * U+2028 and U+2029 are escaped so no `</script>` can end the element early.
 */
export function serializeProps(props: Record<string, unknown>): string {
  const json = JSON.stringify(encode(props, "props"));
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// Signals define toJSON, which JSON.stringify would call before any replacer: encode first.
function encode(value: unknown, key: string): unknown {
  if (value instanceof Signal) return { $signal: encode(value.peek(), key) };
  if (typeof value === "function") {
    throw new TypeError(`Island prop "${key}" is a function; island props must be serializable`);
  }
  if (Array.isArray(value)) return value.map((item, i) => encode(item, `${key}[${i}]`));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, encode(v, k)]),
    );
  }
  return value;
}

function IslandMarker(
  props: { $component: ComponentType; $name: string } & Record<string, unknown>,
): ComponentChild {
  const { $component, $name, ...rest } = props;
  creatingInner = true;
  const inner = h($component, rest);
  if (useContext(InsideIsland)) return inner;
  rendered.add($name.split("#")[0]);
  if ("children" in rest) {
    throw new TypeError(`Island "${$name}" cannot take children`);
  }
  return h(
    ISLAND_TAG as "div",
    { "data-island": $name },
    h("script", {
      type: "application/json",
      dangerouslySetInnerHTML: { __html: serializeProps(rest) },
    }),
    h(InsideIsland.Provider, { value: true }, inner),
  );
}

const previousVnodeHook = options.vnode;
options.vnode = (vnode: VNode) => {
  const inner = creatingInner;
  creatingInner = false;
  const name = !inner && typeof vnode.type === "function"
    ? islandNames.get(vnode.type as ComponentType)
    : undefined;
  if (name) {
    const props = vnode.props as Record<string, unknown>;
    (vnode as unknown as { props: Record<string, unknown> }).props = {
      ...props,
      $component: vnode.type,
      $name: name,
    };
    vnode.type = IslandMarker as unknown as ComponentType;
  }
  previousVnodeHook?.(vnode);
};
