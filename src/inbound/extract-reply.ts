/**
 * Reply extraction: the new text of an incoming mail without quoted history or signature.
 * The text rules are our own instead of email-reply-parser 2.1.0. Without its optional re2
 * engine, its patterns run over the whole body and backtrack: a 160 KB line of ">" took 19 s
 * on the 2-core development VM. It also keeps quoted lines between inline replies.
 */
import { createReplyHtmlConverter, type ReplyHtmlText } from './html-to-text.js';
export { htmlToPlainText } from './html-to-text.js';

/** Result of reply extraction. */
export interface ExtractedReply {
  /** The new text, trimmed. Empty string when the message only quoted. */
  text: string;
  /** True when something (quote or signature) was removed. */
  trimmed: boolean;
}

type LineKind = 'blank' | 'quoted' | 'text';

interface Line {
  /** The line without trailing whitespace. */
  text: string;
  /** The line without leading or trailing whitespace. */
  trimmed: string;
  kind: LineKind;
}

/** Result of the quote scan: the first line of quoted history and the attribution lines to drop. */
interface QuoteScan {
  cutAt: number;
  attributionLines: Set<number>;
}

/** Maximum length of an attribution ("On <date>, <name> wrote:"), joined over its lines. */
const MAX_ATTRIBUTION_CHARS = 500;
/** An attribution wrapped by the sender's client spans at most this many lines. */
const MAX_ATTRIBUTION_LINES = 4;
/** Lines a signature block or list footer may have below its rule line or closing. */
const MAX_TRAILING_BLOCK_LINES = 8;
const MAX_CLOSING_BLOCK_LINES = 4;

/** Extract the new text from a plain-text body. */
export function extractReplyFromText(text: string): ExtractedReply {
  const lines = splitLines(text);
  markWrappedQuoteLines(lines);

  const scan = findQuoteStart(lines);
  const replyLines = assembleReplyLines(lines, scan);
  const quoteFollows = isFollowedByQuote(lines, scan.cutAt);
  trimClosingLines(replyLines, quoteFollows);

  const inputLineCount = countNonBlank(lines.map((line) => line.trimmed));
  const replyLineCount = countNonBlank(replyLines);
  return { text: replyLines.join('\n').trim(), trimmed: replyLineCount < inputLineCount };
}

/**
 * Extract the new text from an HTML body: remove quote containers first (Gmail div.gmail_quote,
 * blockquote type=cite, Outlook #divRplyFwdMsg / border-top separators and everything after,
 * Apple Mail, Thunderbird moz-cite-prefix, Yahoo yahoo_quoted), then convert to text and apply
 * the text rules.
 */
export function extractReplyFromHtml(html: string): ExtractedReply {
  const converted = convertReplyHtml(html);
  const reply = extractReplyFromText(converted.text);
  return { text: reply.text, trimmed: reply.trimmed || converted.quoteRemoved };
}

/** Prefer the text part, fall back to HTML. */
export function extractReply(body: { text?: string | undefined; html?: string | false | undefined }): ExtractedReply {
  if (body.text !== undefined && body.text.trim() !== '') return extractReplyFromText(body.text);
  if (typeof body.html === 'string' && body.html.trim() !== '') return extractReplyFromHtml(body.html);
  return { text: '', trimmed: false };
}

let replyHtmlConverter: ((html: string) => ReplyHtmlText) | undefined;

function convertReplyHtml(html: string): ReplyHtmlText {
  replyHtmlConverter ??= createReplyHtmlConverter(isOutlookHeaderText);
  return replyHtmlConverter(html);
}

/** Outlook desktop puts its "From: ... Sent: ..." header in a block with a top border. */
function isOutlookHeaderText(text: string): boolean {
  const field = parseHeaderField(text);
  return field !== undefined && FROM_FIELD_LABELS.has(field.label);
}

function splitLines(text: string): Line[] {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return normalized.split('\n').map((raw) => {
    const lineText = raw.trimEnd();
    const trimmed = lineText.trimStart();
    if (trimmed === '') return { text: '', trimmed, kind: 'blank' };
    // A lone ">:" ends an attribution whose address wrapped (Gmail in Norwegian), so it quotes nothing.
    const quoted = trimmed.startsWith('>') && trimmed !== '>:';
    return { text: lineText, trimmed, kind: quoted ? 'quoted' : 'text' };
  });
}

/**
 * Marks unprefixed lines that a client wrapped out of a quoted line: the line above is a
 * long quoted line, the line below is quoted too (or the message ends), and the line
 * continues a sentence. A reply typed between two quotes starts a new sentence instead.
 */
function markWrappedQuoteLines(lines: Line[]): void {
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const previous = lines[i - 1];
    const next = lines[i + 1];
    if (line === undefined || previous === undefined || line.kind !== 'text') continue;
    if (previous.kind !== 'quoted' || previous.text.length < 60) continue;
    if (endsSentence(previous.trimmed) && !/^\p{Ll}/u.test(line.trimmed)) continue;
    if (next === undefined || next.kind === 'quoted') line.kind = 'quoted';
  }
}

/**
 * Scans from the top for the first line where quoted history or a signature begins.
 * Attributions directly above ">" lines are only dropped, because text written between
 * quotes (an inline reply) must stay.
 */
function findQuoteStart(lines: Line[]): QuoteScan {
  const attributionLines = new Set<number>();
  const nonBlankAfter = countNonBlankSuffixes(lines);

  for (const [i, line] of lines.entries()) {
    if (line.kind !== 'text') continue;

    if (line.trimmed === '--') return { cutAt: i, attributionLines };
    if (isDeviceSignature(line.trimmed) && lines[i - 1]?.kind !== 'text') return { cutAt: i, attributionLines };
    if (isOriginalMessageSeparator(line.trimmed) || isHeaderBlockStart(lines, i)) {
      return { cutAt: includeRulesAbove(lines, i), attributionLines };
    }
    if (isRuleLine(line.trimmed, '_—–―') && (nonBlankAfter[i + 1] ?? 0) <= MAX_TRAILING_BLOCK_LINES) {
      return { cutAt: i, attributionLines };
    }

    const start = findAttributionStart(lines, i);
    if (start === -1) continue;
    if (nextContentKind(lines, i + 1) !== 'quoted') return { cutAt: start, attributionLines };
    for (let k = start; k <= i; k++) attributionLines.add(k);
  }

  return { cutAt: lines.length, attributionLines };
}

/**
 * Finds the first line of an attribution that ends on line `end`, or returns -1. The attribution
 * may be wrapped over up to four lines. It starts at the nearest line above that opens like
 * one ("On ...", "Le ...", a date), otherwise at the shortest window that validates.
 */
function findAttributionStart(lines: Line[], end: number): number {
  const last = lines[end];
  if (last === undefined || last.trimmed.length > MAX_ATTRIBUTION_CHARS) return -1;
  const ending = readAttributionEnding(last.trimmed);
  if (ending === undefined) return -1;

  let start = end;
  let length = last.trimmed.length;
  while (start > 0 && end - start < MAX_ATTRIBUTION_LINES - 1 && !isAttributionStart(lines[start]?.trimmed ?? '')) {
    const previous = lines[start - 1];
    if (previous === undefined || previous.kind !== 'text' || endsSentence(previous.trimmed)) break;
    if (length + previous.trimmed.length > MAX_ATTRIBUTION_CHARS) break;
    start--;
    length += previous.trimmed.length + 1;
  }

  if (isAttributionStart(lines[start]?.trimmed ?? '') && isAttribution(lines, start, end, ending)) return start;

  // When no line opens like an attribution, take the shortest window that validates, plus the
  // lines above it that hold digits, which are a wrapped date ("pe 20. lokakuuta 2017 klo 17.50").
  for (let candidate = end; candidate >= start; candidate--) {
    if (!isAttribution(lines, candidate, end, ending)) continue;
    let first = candidate;
    while (first > start && /\d/.test(lines[first - 1]?.trimmed ?? '')) first--;
    return first;
  }
  return -1;
}

function isAttribution(lines: Line[], start: number, end: number, ending: AttributionEnding): boolean {
  const joined = lines
    .slice(start, end + 1)
    .map((line) => line.trimmed)
    .join(' ');
  const hasAddress = joined.includes('@');
  const hasDigit = /\d/.test(joined);

  if (ending.kind === 'address') return hasAddress && hasDigit;
  // Without the colon, "... wrote" could end any sentence, so an address must be present.
  if (!ending.colon) return hasAddress;
  if (hasAddress) return true;
  if (hasDigit && isAttributionStart(joined)) return true;
  return nextContentKind(lines, end + 1) === 'quoted';
}

/**
 * Checks whether an Outlook-style header block ("From: ...", "Sent: ...", "To: ...") starts
 * on line `start`. The field lines follow one another, and a value may wrap onto one extra
 * line. The block needs a sender field and two other fields. When the sender field names an
 * address, one other field or an address in angle brackets is enough.
 */
function isHeaderBlockStart(lines: Line[], start: number): boolean {
  const first = lines[start];
  if (first === undefined || parseKnownField(first.trimmed) === undefined) return false;

  let hasSender = false;
  let senderHasAddress = false;
  let senderHasBracketedAddress = false;
  let lastWasSender = false;
  let continuationLines = 0;
  const otherLabels = new Set<string>();

  for (let k = start; k < lines.length && k < start + 10; k++) {
    const line = lines[k];
    if (line === undefined || line.kind !== 'text') break;
    const field = parseKnownField(line.trimmed);

    if (field === undefined) {
      continuationLines++;
      if (continuationLines > 1) break;
      if (lastWasSender) {
        senderHasAddress ||= line.trimmed.includes('@');
        senderHasBracketedAddress ||= hasBracketedAddress(line.trimmed);
      }
      continue;
    }

    continuationLines = 0;
    lastWasSender = FROM_FIELD_LABELS.has(field.label);
    if (lastWasSender) {
      hasSender = true;
      senderHasAddress ||= field.value.includes('@');
      senderHasBracketedAddress ||= hasBracketedAddress(field.value);
    } else {
      otherLabels.add(field.label);
    }
  }

  if (!hasSender) return false;
  if (otherLabels.size >= 2) return true;
  return senderHasAddress && (otherLabels.size >= 1 || senderHasBracketedAddress);
}

function parseKnownField(trimmed: string): { label: string; value: string } | undefined {
  const field = parseHeaderField(trimmed);
  if (field === undefined) return undefined;
  if (!FROM_FIELD_LABELS.has(field.label) && !OTHER_FIELD_LABELS.has(field.label)) return undefined;
  return field;
}

function hasBracketedAddress(value: string): boolean {
  const open = value.indexOf('<');
  return (open !== -1 && value.indexOf('@', open) !== -1) || value.includes('[mailto:');
}

/** Moves a cut up over rule lines ("____", "-----", "====") and blank lines right above it. */
function includeRulesAbove(lines: Line[], cutAt: number): number {
  let start = cutAt;
  for (let k = cutAt - 1; k >= 0; k--) {
    const line = lines[k];
    if (line === undefined) break;
    if (line.kind === 'blank') continue;
    if (line.kind !== 'text' || !isRuleLine(line.trimmed, '-_=*—–')) break;
    start = k;
  }
  return start;
}

/**
 * Builds the reply lines above the cut, leaving out quoted lines and dropped attributions.
 * Each run of removed lines and the blank lines around it becomes one blank line.
 */
function assembleReplyLines(lines: Line[], scan: QuoteScan): string[] {
  const replyLines: string[] = [];
  let gapPending = false;

  for (let i = 0; i < scan.cutAt; i++) {
    const line = lines[i];
    if (line === undefined) break;

    if (line.kind === 'quoted' || scan.attributionLines.has(i)) {
      gapPending = true;
    } else if (line.kind === 'blank') {
      if (!gapPending) replyLines.push('');
    } else {
      if (gapPending) {
        while (replyLines.at(-1) === '') replyLines.pop();
        if (replyLines.length > 0) replyLines.push('');
        gapPending = false;
      }
      replyLines.push(line.text);
    }
  }

  return replyLines;
}

/** Checks whether quoted history follows the reply: a cut, or a quoted last non-blank line. */
function isFollowedByQuote(lines: Line[], cutAt: number): boolean {
  if (cutAt < lines.length) return true;
  for (let k = lines.length - 1; k >= 0; k--) {
    const kind = lines[k]?.kind;
    if (kind === 'blank') continue;
    return kind === 'quoted';
  }
  return false;
}

/**
 * Removes, from the end of the reply lines: a closing ("Best regards," plus a few short
 * lines), a short "Sent ..." device tagline right above the quote, and rule lines left
 * over once something was cut.
 */
function trimClosingLines(replyLines: string[], quoteFollows: boolean): void {
  trimTrailingBlank(replyLines);

  const closing = findClosingLine(replyLines);
  if (closing !== -1) {
    replyLines.length = closing;
    trimTrailingBlank(replyLines);
  }

  const last = replyLines.at(-1)?.trim() ?? '';
  const lineAboveLast = replyLines.at(-2);
  if (quoteFollows && replyLines.length > 2 && lineAboveLast === '' && isSentTagline(last)) {
    replyLines.length -= 1;
    trimTrailingBlank(replyLines);
  }

  if (quoteFollows || closing !== -1) {
    while (replyLines.length > 0 && isRuleLine(replyLines.at(-1)?.trim() ?? '', '-_=*—–')) {
      replyLines.pop();
      trimTrailingBlank(replyLines);
    }
  }
}

function findClosingLine(replyLines: string[]): number {
  let linesBelow = 0;
  for (let k = replyLines.length - 1; k > 0 && linesBelow <= MAX_CLOSING_BLOCK_LINES; k--) {
    const trimmed = replyLines[k]?.trim() ?? '';
    if (trimmed === '') continue;
    if (isClosing(trimmed)) return countNonBlank(replyLines.slice(0, k)) > 0 ? k : -1;
    if (trimmed.length > 60) return -1;
    linesBelow++;
  }
  return -1;
}

function trimTrailingBlank(lines: string[]): void {
  while (lines.length > 0 && lines.at(-1)?.trim() === '') lines.pop();
}

function nextContentKind(lines: Line[], from: number): LineKind | 'end' {
  for (let k = from; k < lines.length; k++) {
    const kind = lines[k]?.kind;
    if (kind !== undefined && kind !== 'blank') return kind;
  }
  return 'end';
}

function endsSentence(trimmed: string): boolean {
  return '.!?;:'.includes(trimmed.at(-1) ?? '');
}

/** Element k is the number of non-blank lines from line k to the end. */
function countNonBlankSuffixes(lines: Line[]): number[] {
  const counts = new Array<number>(lines.length + 1).fill(0);
  for (let k = lines.length - 1; k >= 0; k--) {
    counts[k] = (counts[k + 1] ?? 0) + (lines[k]?.kind === 'blank' ? 0 : 1);
  }
  return counts;
}

function countNonBlank(lines: string[]): number {
  return lines.filter((line) => line.trim() !== '').length;
}

// Patterns. Each is matched against one short line with string methods or with
// regular expressions that cannot backtrack, so a hostile body stays linear.

/** Last word of an attribution line, lower case, matched at a word boundary. */
const ATTRIBUTION_VERBS = [
  'wrote', 'writes', 'écrit', 'escribió', 'escribio', 'scritto', 'escreveu', 'schrieb', 'schreef', 'geschreven',
  'napisał', 'napisał(a)', 'napisała', 'pisze', 'kirjoitti', 'skrev', 'skriver', 'írta', 'napsal', 'napsal(a)',
  'napsala', 'написал', 'написал(а)', 'написала', 'написав', 'yazdı', 'έγραψε', 'escriure',
];
/** Chinese, Japanese and Korean attribution endings, which may follow the name without a space. */
const ATTRIBUTION_SUFFIXES_CJK = ['写道', '寫道', 'のメッセージ', '작성'];
/** Openings of attributions in the languages above ("On <date>", "Le <date>", "Am <date>", ...). */
const ATTRIBUTION_OPENERS = [
  'on ', 'le ', 'el ', 'il ', 'in data ', 'em ', 'am ', 'op ', 'w dniu ', 'dnia ', 'den ', 'på ', 'dne ', 'no dia ',
  '在',
];

/** Header field names of the sender in Outlook-style headers, lower case. */
const FROM_FIELD_LABELS = new Set([
  'from', 'de', 'von', 'van', 'da', 'fra', 'från', 'od', 'от', 'від', 'lähettäjä', 'feladó', 'kimden', 'afzender',
  'remitente', 'mittente', 'από', '发件人', '寄件者', '差出人', '보낸 사람',
]);
/** The other header field names that Outlook-style headers show, lower case. */
const OTHER_FIELD_LABELS = new Set([
  'sent', 'sent on', 'date', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'envoyé', 'envoyé le', 'à', 'a', 'objet',
  'copie à', 'message du', 'sujet', 'gesendet', 'datum', 'an', 'betreff', 'kopie', 'verzonden', 'aan', 'onderwerp',
  'inviato', 'data', 'oggetto', 'dato', 'til', 'emne', 'sendt', 'kopi', 'enviado', 'enviada', 'enviado el', 'fecha',
  'para', 'asunto', 'assunto', 'skickat', 'till', 'ämne', 'kopia', 'wysłano', 'do', 'temat', 'отправлено', 'дата',
  'кому', 'тема', 'копия', 'lähetetty', 'vastaanottaja', 'aihe', 'päivämäärä', 'kopio', 'elküldve', 'címzett',
  'tárgy', 'másolat', 'gönderildi', 'tarih', 'kime', 'konu', 'odesláno', 'komu', 'předmět', '发送时间', '时间',
  '收件人', '主题', '抄送', '日期', '日付', '送信日時', '宛先', '件名', '보낸 날짜', '받는 사람', '제목', '참조',
  'ημερομηνία', 'προς', 'θέμα', 'στάλθηκε',
]);

/** Words between the dashes of an "-----Original Message-----" or forward separator, lower case. */
const SEPARATOR_PHRASES = [
  'original message', 'message original', 'original-nachricht', 'ursprüngliche nachricht', "message d'origine",
  'forwarded message', 'weitergeleitete nachricht', 'message transféré', 'oprindelig besked', 'videresendt besked',
  'opprinnelig melding', 'videresendt melding', 'ursprungligt meddelande', 'vidarebefordrat meddelande',
  'oorspronkelijk bericht', 'doorgestuurd bericht', 'messaggio originale', 'messaggio inoltrato', 'mensaje original',
  'mensaje reenviado', 'mensagem original', 'mensagem encaminhada', 'alkuperäinen viesti', 'välitetty viesti',
  'wiadomość oryginalna', 'oryginalna wiadomość', 'przekazana wiadomość', 'původní zpráva', 'přeposlaná zpráva',
  'исходное сообщение', 'пересылаемое сообщение', 'eredeti üzenet', 'továbbított üzenet', 'özgün ileti',
];
/** Lines that introduce a forwarded message without dashes (Apple Mail), lower case, colon removed. */
const FORWARD_INTRODUCTIONS = new Set([
  'begin forwarded message', 'début du message réexpédié', 'anfang der weitergeleiteten nachricht',
  'inizio messaggio inoltrato', 'comienzo del mensaje reenviado', 'início da mensagem reencaminhada',
  'begin doorgestuurd bericht',
]);

/** Openings of the taglines that phones and mail apps append ("Sent from my iPhone"), lower case. */
const DEVICE_SIGNATURE_PREFIXES = [
  'sent from ', 'sent via ', 'sent with proton', 'get outlook for ', 'envoyé de mon ', 'envoyé depuis ',
  'envoyé à partir de ', 'télécharger outlook pour ', 'gesendet von ', 'gesendet mit ', 'enviado desde ',
  'enviado de mi ', 'enviado do meu ', 'enviado a partir do ', 'inviato da ', 'verzonden vanaf ', 'verstuurd vanaf ',
  'verzonden met ', 'verstuurd met ', 'sendt fra ', 'skickat från ', 'lähetetty ', 'wysłane z ', 'отправлено с ',
  'odesláno z ',
];

/**
 * Closings that start a signature block, lower case, punctuation removed. "Sincerely" and
 * "Thanks" are left out, because they often close automated notices or carry the last sentence.
 */
const CLOSINGS = new Set([
  'regards', 'best regards', 'kind regards', 'warm regards', 'warmest regards', 'many regards', 'with regards',
  'with best regards', 'with kind regards', 'thanks & regards', 'thanks and regards', 'best', 'all the best',
  'best wishes', 'cheers', 'cordialement', 'bien cordialement', 'bien à vous', 'salutations', 'mit freundlichen grüßen',
  'mit freundlichen grüssen', 'freundliche grüße', 'freundliche grüsse', 'viele grüße', 'viele grüsse', 'beste grüße',
  'beste grüsse', 'liebe grüße', 'liebe grüsse', 'saludos', 'un saludo', 'saludos cordiales', 'atentamente',
  'cordiali saluti', 'distinti saluti', 'saluti', 'met vriendelijke groet', 'met vriendelijke groeten',
  'vriendelijke groet', 'groeten', 'atenciosamente', 'cumprimentos', 'abraços', 'med vänliga hälsningar',
  'vänliga hälsningar', 'med venlig hilsen', 'venlig hilsen', 'med vennlig hilsen', 'vennlig hilsen',
  'ystävällisin terveisin', 'pozdrawiam', 'z poważaniem', 's pozdravem', 'с уважением',
]);

/** Ending of an attribution line: a verb ("wrote:") or an address ("<a@b.c>:"). */
interface AttributionEnding {
  kind: 'verb' | 'address';
  colon: boolean;
}

function readAttributionEnding(trimmed: string): AttributionEnding | undefined {
  // Zoho frames the attribution in dashes: "---- On <date> <address> wrote ----".
  let ending = stripTrailing(trimmed.toLowerCase(), '- ');
  const colon = ending.endsWith(':') || ending.endsWith('：');
  if (colon) ending = ending.slice(0, -1).trimEnd();

  if (colon && (ending.endsWith('>') || ending.endsWith(']'))) return { kind: 'address', colon };
  for (const verb of ATTRIBUTION_VERBS) {
    if (ending.endsWith(verb) && !isLetterOrDigit(ending.charAt(ending.length - verb.length - 1))) {
      return { kind: 'verb', colon };
    }
  }
  if (ATTRIBUTION_SUFFIXES_CJK.some((suffix) => ending.endsWith(suffix))) return { kind: 'verb', colon };
  return undefined;
}

function isAttributionStart(trimmed: string): boolean {
  const opening = stripLeading(trimmed, '-> ').toLowerCase();
  if (/^\d/.test(opening)) return true;
  return ATTRIBUTION_OPENERS.some((opener) => opening.startsWith(opener));
}

/**
 * Splits "Label: value" when the label is within the first 40 characters. Labels are
 * lower-cased, and the bold markers ("*From:*") and no-break spaces that HTML
 * conversion and Outlook leave are removed.
 */
function parseHeaderField(text: string): { label: string; value: string } | undefined {
  const head = text.slice(0, 40);
  const colon = head.search(/[:：]/);
  if (colon <= 0) return undefined;

  const label = head.slice(0, colon).replace(/[*\s]+/g, ' ').trim().toLowerCase();
  if (label === '') return undefined;
  const value = text.slice(colon + 1).replace(/^[*\s]+/, '');
  return { label, value };
}

function isOriginalMessageSeparator(trimmed: string): boolean {
  if (trimmed.length > 100) return false;
  const words = stripTrailing(stripLeading(trimmed, '-_=* '), '-_=*: ').toLowerCase();
  if (words === '') return false;

  const framed = /^[-_=]{2}/.test(trimmed);
  if (framed) return SEPARATOR_PHRASES.some((phrase) => words.includes(phrase));
  return FORWARD_INTRODUCTIONS.has(words) || SEPARATOR_PHRASES.includes(words);
}

/** Checks for a line made only of the given characters, at least two of them unless they are dashes. */
function isRuleLine(trimmed: string, characters: string): boolean {
  if (trimmed === '' || trimmed.length > 200) return false;
  for (const character of trimmed) {
    if (!characters.includes(character)) return false;
  }
  return trimmed.length >= 2 || '—–―'.includes(trimmed);
}

/** Checks for "Sent from my iPhone" and its kin: a short line without sentence punctuation inside. */
function isDeviceSignature(trimmed: string): boolean {
  if (trimmed.length > 120) return false;
  let tagline = trimmed;
  // Outlook mobile appends its link: "Get Outlook for iOS<https://aka.ms/...>".
  const linkStart = tagline.endsWith('>') ? tagline.lastIndexOf('<') : -1;
  if (linkStart > 0) tagline = tagline.slice(0, linkStart).trimEnd();
  if (tagline.length > 70 || /[,;.!?]\s/.test(tagline)) return false;

  const lower = tagline.toLowerCase();
  if (lower.startsWith('von meinem ') && lower.endsWith(' gesendet')) return true;
  return DEVICE_SIGNATURE_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/** Checks for a short "Sent ..." line without punctuation, which some phones append ("Sent a magnificent torch of pixels"). */
function isSentTagline(trimmed: string): boolean {
  return trimmed.startsWith('Sent ') && trimmed.split(' ').length <= 8 && !/[.,;:!?]/.test(trimmed);
}

function isClosing(trimmed: string): boolean {
  if (trimmed.length > 40) return false;
  const words = trimmed
    .toLowerCase()
    .replace(/[^\p{L}&' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return CLOSINGS.has(words);
}

function isLetterOrDigit(character: string): boolean {
  return character !== '' && /[\p{L}\p{N}]/u.test(character);
}

function stripLeading(text: string, characters: string): string {
  let start = 0;
  while (start < text.length && characters.includes(text.charAt(start))) start++;
  return text.slice(start);
}

function stripTrailing(text: string, characters: string): string {
  let end = text.length;
  while (end > 0 && characters.includes(text.charAt(end - 1))) end--;
  return text.slice(0, end);
}
