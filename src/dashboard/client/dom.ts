/**
 * DOM helpers. Server text reaches the page only through textContent and attributes set with
 * setAttribute, never parsed as HTML.
 */
import { localTime, relative } from './format.ts';

/** A child for el(): a node, text, or nothing. */
export type Child = Node | string | null | undefined;

/** What el() sets on a new element. */
export interface Props {
  className?: string;
  text?: string | number | null;
  title?: string;
  attrs?: Record<string, string>;
}

/** The element with this id; the page's markup has every id the client uses. */
export function byId(id: string): HTMLElement;
/** The element with this id, checked to be of the given kind (an input, a dialog, …). */
export function byId<T extends HTMLElement>(id: string, kind: abstract new () => T): T;
/** Looks the element up and checks its kind; a missing or different element is a bug in the page. */
export function byId(id: string, kind: abstract new () => HTMLElement = HTMLElement): HTMLElement {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return node;
}

function toNodes(children: readonly Child[]): Node[] {
  return children.flatMap((c) => (c === null || c === undefined ? [] : [typeof c === 'string' ? document.createTextNode(c) : c]));
}

/** Creates an element with text, attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.title) node.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  node.append(...toNodes(children));
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes and children. */
export function svgEl<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  children: readonly Child[] = [],
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...toNodes(children));
  return node;
}

/** Replaces a node's children. */
export function setChildren(node: Element, children: readonly Child[]): void {
  node.replaceChildren(...toNodes(children));
}

/** A small label: ok, bad, warn, info, or neutral. */
export function badge(text: string, tone: 'ok' | 'bad' | 'warn' | 'info' | null): HTMLSpanElement {
  return el('span', { className: `badge${tone ? ` ${tone}` : ''}`, text });
}

/** A <time>: relative text, exact local time as tooltip, ISO in datetime; "never" without a time. */
export function timeEl(iso: string | null, style: 'relative' | 'absolute' = 'relative'): HTMLElement {
  if (!iso) return el('span', { className: 'muted', text: 'never' });
  const text = style === 'absolute' ? localTime(iso) : relative(iso, Date.now());
  return el('time', { text, title: `${localTime(iso)} (${iso})`, attrs: { datetime: iso } });
}

/** A table cell: text ("–" for nothing) or nodes. */
export function cell(content: readonly Child[] | string | number | null | undefined, className?: string): HTMLTableCellElement {
  const children: readonly Child[] =
    typeof content === 'string' || typeof content === 'number' ? [String(content)] : (content ?? ['\u2013']);
  return el('td', className === undefined ? {} : { className }, children);
}

/** The one row of an empty table. */
export function emptyRow(colspan: number, text: string): HTMLTableRowElement {
  return el('tr', {}, [el('td', { className: 'empty', text, attrs: { colspan: String(colspan) } })]);
}

/** The data-key attribute lets a re-render put focus back on "the same" control. */
export function keyed<T extends Element>(node: T, key: string): T {
  node.setAttribute('data-key', key);
  return node;
}

/** A real button whose accessible name includes what it acts on ("Sync now prospects"). */
export function actionButton(label: string, target: string, className: string): HTMLButtonElement {
  const b = el('button', { className, attrs: { type: 'button' } });
  b.append(el('span', { className: 'visible-label', text: label }), el('span', { className: 'visually-hidden', text: ` ${target}` }));
  return b;
}

/** Changes the visible label of an actionButton. */
export function setButtonLabel(button: HTMLButtonElement, label: string): void {
  const visible = button.querySelector('.visible-label');
  if (visible && visible.textContent !== label) visible.textContent = label;
}

/** Whether a button is marked busy (aria-disabled keeps focus on it, unlike disabled). */
export function isBusy(button: Element): boolean {
  return button.getAttribute('aria-disabled') === 'true';
}

/** Marks a button busy or not. */
export function setBusy(button: Element, busy: boolean): void {
  if (busy) {
    button.setAttribute('aria-disabled', 'true');
    button.setAttribute('aria-busy', 'true');
  } else {
    button.removeAttribute('aria-disabled');
    button.removeAttribute('aria-busy');
  }
}

/** The elements under `root` with this data-key. */
export function findKeyed(root: Element, key: string): HTMLElement | null {
  return Array.from(root.querySelectorAll<HTMLElement>('[data-key]')).find((n) => n.getAttribute('data-key') === key) ?? null;
}
