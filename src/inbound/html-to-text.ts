import { randomUUID } from 'node:crypto';
import { compile, type DomNode, type FormatCallback, type HtmlToTextOptions, type SelectorDefinition } from 'html-to-text';

/**
 * Default cap on HTML input, in UTF-16 code units (JavaScript string length).
 * NOTE: html-to-text 10.0.1 converts markup-dense HTML at roughly 1 MB per second (2 MB of
 * `<p>x</p>` took about 2 s on the 2-core Xeon development VM), so a part at the cap still
 * blocks the event loop for seconds. Run the conversion in a worker if that matters.
 */
export const DEFAULT_MAX_HTML_INPUT_CHARS = 2_000_000;

/**
 * Maximum element nesting handed to the parser. htmlparser2 10.1 keeps its open-element
 * stack in an array that it shifts and unshifts, so parsing costs O(tags × depth): 100,000
 * nested div and span pairs took about 20 s to parse on the 2-core development VM. Mail
 * clients add a few levels per quoted reply, so ordinary threads stay well below this.
 */
const MAX_TAG_DEPTH = 500;

/** Elements that never have a closing tag, so they do not add to the nesting depth. */
const VOID_ELEMENTS = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr',
]);

/**
 * Markers that the reply converter writes where it removed or cut quoted history. The random
 * part keeps a sender from forging one with character references in the HTML.
 */
const MARKER_ID = randomUUID();
const QUOTE_CUT_MARKER = `\uE000quote-cut-${MARKER_ID}\uE000`;
const QUOTE_REMOVED_MARKER = `\uE000quote-removed-${MARKER_ID}\uE000`;

const BASE_OPTIONS: HtmlToTextOptions = {
  // Lines must stay as the sender wrote them, so quote headers are not split by wrapping.
  wordwrap: false,
  // The input is capped before conversion, so html-to-text's own cap (which writes to stderr)
  // never fires. maxDepth guards its recursive walk against a stack overflow.
  limits: { maxInputLength: Number.POSITIVE_INFINITY, maxDepth: MAX_TAG_DEPTH, ellipsis: '' },
  selectors: [
    // Inline images are logos, tracking pixels or cid: parts, and their URLs are noise in the text.
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'table', options: { uppercaseHeaderCells: false } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ],
};

/** Containers that mail clients put around quoted history or a signature. They are dropped. */
const QUOTE_CONTAINER_SELECTORS = [
  'div.gmail_quote',
  'div.gmail_quote_container',
  'blockquote.gmail_quote',
  'div.gmail_signature',
  'span.gmail_signature_prefix',
  'blockquote[type=cite]',
  'div.moz-cite-prefix',
  'div.moz-forward-container',
  '.moz-signature',
  'div.yahoo_quoted',
  'div[id^=yahoo_quoted]',
  'div.protonmail_quote',
  'blockquote.protonmail_quote',
  'div#Signature',
];

/** Elements after which everything is quoted history (Outlook desktop and web, Zimbra). */
const QUOTE_START_SELECTORS = [
  'div#divRplyFwdMsg',
  'div#appendonsend',
  'div.OutlookMessageHeader',
  'div#mail-editor-reference-message-container',
  'hr#zwchr',
];

let plainConverter: ((html: string) => string) | undefined;

/**
 * Converts HTML to plain text without wrapping lines. Input longer than `maxInputChars` is cut
 * at that length before parsing, so the text of anything past the cap is missing from the
 * result, and a tag that the cut splits is dropped. Elements nested deeper than 500
 * levels lose their tags but keep their text.
 */
export function htmlToPlainText(html: string, maxInputChars = DEFAULT_MAX_HTML_INPUT_CHARS): string {
  plainConverter ??= compile(BASE_OPTIONS);
  return collapseBlankLines(plainConverter(prepareHtml(html, maxInputChars)));
}

/** Plain text of an HTML reply with the quote containers of common mail clients taken out. */
export interface ReplyHtmlText {
  /** Text of everything before the quoted history, quote markers removed. */
  text: string;
  /** True when a quote container or an Outlook-style header and what follows it was dropped. */
  quoteRemoved: boolean;
}

/**
 * Builds a converter for HTML replies: it drops quote containers and cuts the text at the
 * first Outlook-style reply header. `isReplyHeader` receives the start of the text of an
 * element with a top border (Outlook desktop draws one above "From: ... Sent: ...") and
 * decides whether it is such a header. The converter applies the same input cap as
 * `htmlToPlainText`. Build it once and reuse it, because compiling the selectors is slow.
 */
export function createReplyHtmlConverter(
  isReplyHeader: (text: string) => boolean,
): (html: string, maxInputChars?: number) => ReplyHtmlText {
  const convert = compile(buildReplyOptions(isReplyHeader));

  return (html, maxInputChars = DEFAULT_MAX_HTML_INPUT_CHARS) => {
    let text = convert(prepareHtml(html, maxInputChars));
    let quoteRemoved = false;

    const cutAt = text.indexOf(QUOTE_CUT_MARKER);
    if (cutAt !== -1) {
      text = text.slice(0, cutAt);
      quoteRemoved = true;
    }
    if (text.includes(QUOTE_REMOVED_MARKER)) {
      text = text.split(QUOTE_REMOVED_MARKER).join('');
      quoteRemoved = true;
    }

    return { text: collapseBlankLines(text), quoteRemoved };
  };
}

function prepareHtml(html: string, maxInputChars: number): string {
  let capped = html;
  if (html.length > maxInputChars) {
    capped = html.slice(0, maxInputChars);
    // htmlparser2 would print a tag cut in half as text, so the partial tag goes too.
    const lastTagStart = capped.lastIndexOf('<');
    if (lastTagStart > capped.lastIndexOf('>')) capped = capped.slice(0, lastTagStart);
  }
  return limitTagNesting(capped, MAX_TAG_DEPTH);
}

/**
 * Removes trailing whitespace from each line and keeps at most one blank line in a row,
 * because empty paragraphs and `<div><br></div>` spacers would otherwise stack up.
 */
function collapseBlankLines(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed === '' && (lines.length === 0 || lines.at(-1) === '')) continue;
    lines.push(trimmed);
  }
  return lines.join('\n').trimEnd();
}

function buildReplyOptions(isReplyHeader: (text: string) => boolean): HtmlToTextOptions {
  const selectors: SelectorDefinition[] = [
    ...(BASE_OPTIONS.selectors ?? []),
    // A horizontal rule in a reply is usually the line Outlook on the web draws above its header.
    { selector: 'hr', format: 'skip' },
    ...QUOTE_CONTAINER_SELECTORS.map((selector) => ({ selector, format: 'quoteRemoved' })),
    ...QUOTE_START_SELECTORS.map((selector) => ({ selector, format: 'quoteCut' })),
    { selector: 'div[style*="border-top"]', format: 'borderedBlock' },
  ];
  const borderedBlock: FormatCallback = (elem, walk, builder) => {
    if (isReplyHeader(collectText(elem, 300))) {
      addMarker(builder, QUOTE_CUT_MARKER);
      return;
    }
    builder.openBlock({ leadingLineBreaks: 1 });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: 1 });
  };

  return {
    ...BASE_OPTIONS,
    selectors,
    formatters: {
      quoteRemoved: (_elem, _walk, builder) => addMarker(builder, QUOTE_REMOVED_MARKER),
      quoteCut: (_elem, _walk, builder) => addMarker(builder, QUOTE_CUT_MARKER),
      borderedBlock,
    },
  };
}

function addMarker(builder: Parameters<FormatCallback>[2], marker: string): void {
  builder.openBlock({ leadingLineBreaks: 1 });
  builder.addLiteral(marker);
  builder.closeBlock({ trailingLineBreaks: 1 });
}

/** Collects the first `maxChars` characters of an element's text, skipping comments, scripts and styles. */
function collectText(root: DomNode, maxChars: number): string {
  let text = '';
  const pending: DomNode[] = [root];
  while (pending.length > 0 && text.length < maxChars) {
    const node = pending.pop();
    if (node === undefined) break;
    if (node.type === 'text') {
      text += `${(node.data ?? '').slice(0, maxChars)} `;
    } else if (node.type === 'tag') {
      for (let i = node.children.length - 1; i >= 0; i--) {
        const child = node.children[i];
        if (child !== undefined) pending.push(child);
      }
    }
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, maxChars);
}

/**
 * Drops opening tags that would nest deeper than `maxDepth`, keeping all text. The scan
 * matches closing tags the way htmlparser2 does: a closing tag closes the innermost open
 * element of that name, or nothing. Its depth count is therefore an upper bound of the
 * parser's stack size, and the parse stays O(tags × maxDepth). The scan itself is linear.
 */
function limitTagNesting(html: string, maxDepth: number): string {
  const openNames: string[] = [];
  const openCounts = new Map<string, number>();
  const pieces: string[] = [];
  let copiedUpTo = 0;
  let pos = 0;

  for (;;) {
    const start = html.indexOf('<', pos);
    if (start === -1) break;
    const end = html.indexOf('>', start + 1);
    if (end === -1) break;
    pos = end + 1;

    const isEndTag = html.charCodeAt(start + 1) === 0x2f;
    const name = readTagName(html, isEndTag ? start + 2 : start + 1);
    if (name === '') continue;

    if (isEndTag) {
      if ((openCounts.get(name) ?? 0) === 0) continue;
      let popped: string | undefined;
      do {
        popped = openNames.pop();
        if (popped !== undefined) openCounts.set(popped, (openCounts.get(popped) ?? 1) - 1);
      } while (popped !== undefined && popped !== name);
      continue;
    }

    const selfClosing = html.charCodeAt(end - 1) === 0x2f;
    if (selfClosing || VOID_ELEMENTS.has(name)) continue;
    if (openNames.length < maxDepth) {
      openNames.push(name);
      openCounts.set(name, (openCounts.get(name) ?? 0) + 1);
      continue;
    }
    pieces.push(html.slice(copiedUpTo, start));
    copiedUpTo = end + 1;
  }

  if (copiedUpTo === 0) return html;
  pieces.push(html.slice(copiedUpTo));
  return pieces.join('');
}

function readTagName(html: string, from: number): string {
  let end = from;
  while (end < html.length && end - from < 64 && isTagNameChar(html.charCodeAt(end))) end++;
  if (end === from || !isAsciiLetter(html.charCodeAt(from))) return '';
  return html.slice(from, end).toLowerCase();
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isTagNameChar(code: number): boolean {
  return isAsciiLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x3a;
}
